//! Unit tests of the Key Vault normaliser.

use super::*;
