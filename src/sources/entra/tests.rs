//! Unit tests of the Entra normalisers.

use super::*;
