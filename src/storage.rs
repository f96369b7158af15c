//! Every read and write of raw logs, lake, state and findings goes through here:
//! a user's location text (a local path, `file://`, `s3://`, `az://`/`abfs://`, `gs://`,
//! `memory://`) becomes an `object_store` handle plus a prefix ([`Location`]).
//!
//! Writes are atomic: `put` of a whole object is atomic on every store (a local put writes a
//! staging file and renames it), so a reader never sees a partial Parquet file.
//! Credentials follow each cloud's standard chain as object_store implements it: the
//! `AWS_*`, `AZURE_*` / `AZURITE_*` and `GOOGLE_*` environment variables (read with the
//! builders' `from_env`), then web identity / workload identity, container and instance
//! metadata. `options` (a pipeline's `[storage_options]`, `--storage-option`) override the
//! environment key by key, e.g. `aws_endpoint` for S3-compatible stores (see docs/storage.md).
//!
//! A location may carry a [`DateRange`]: its listing then skips the date folders
//! (`YYYY/MM/DD`, `y=YYYY/m=MM/d=DD`) outside the range without listing them.

use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use url::Url;

use crate::{Error, Result};

mod dates;

pub use dates::{DatePath, DateRange};

/// An object_store key with its percent-encoded characters (`%C3%BC`, `%25`, `%23`)
/// decoded back to the file name they stand for; invalid UTF-8 is replaced.
fn decode_key(key: &str) -> String {
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Rejects `object_store` options that the URL's store does not know: a misspelt
/// `aws_endpiont` would otherwise be ignored silently and the job would talk to AWS.
fn check_options(scheme: &str, options: &[(String, String)]) -> Result<()> {
    for (key, _) in options {
        let known = match scheme {
            "s3" | "s3a" => key.parse::<object_store::aws::AmazonS3ConfigKey>().is_ok(),
            "az" | "adl" | "azure" | "abfs" | "abfss" => key.parse::<object_store::azure::AzureConfigKey>().is_ok(),
            "gs" => key.parse::<object_store::gcp::GoogleConfigKey>().is_ok(),
            _ => true,
        };
        if !known {
            return Err(Error::config(format!("storage option `{key}`"), format!("not an object_store option for {scheme}:// locations")));
        }
    }
    Ok(())
}

/// The process-wide async runtime that drives `object_store` from synchronous code.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime starts")
    })
}

/// Runs a future to completion on the storage runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// What [`Location::list_shown`] found: the objects with their shown names, and the
/// entries of a local folder that could not be listed as (path, why).
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<(ObjectMeta, String)>,
    pub unlisted: Vec<(String, String)>,
}

/// A store and a prefix inside it, with the text the user gave (for messages).
#[derive(Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    display: String,
    local: Option<PathBuf>,
    /// The same store when it is a local folder: reads then skip the async runtime, whose
    /// hand-off costs more than reading a small log object.
    fs: Option<Arc<LocalFileSystem>>,
    /// The folder a local store is rooted at, canonical (resolved once, not per read).
    root: Option<PathBuf>,
    /// Only keys in these days' date folders (and keys outside any date folder) are listed.
    dates: Option<DateRange>,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl Location {
    /// Parses a path or URL. `options` are `object_store` configuration keys
    /// (`aws_endpoint`, `aws_allow_http`, `azure_storage_account_name`, ...).
    ///
    /// # Errors
    /// [`Error::Config`] for an unparsable URL or unknown scheme; [`Error::Io`] when a local
    /// folder cannot be created.
    pub fn parse(text: &str, options: &[(String, String)]) -> Result<Self> {
        Self::parse_with(text, options, false)
    }

    /// Like [`Location::parse`], for a place the program writes to: a missing local folder
    /// is created.
    ///
    /// # Errors
    /// As [`Location::parse`].
    pub fn parse_output(text: &str, options: &[(String, String)]) -> Result<Self> {
        Self::parse_with(text, options, true)
    }

    fn parse_with(text: &str, options: &[(String, String)], create: bool) -> Result<Self> {
        let looks_like_url = text.contains("://");
        if !looks_like_url {
            return Self::local(FsPath::new(text), text, create);
        }
        let url = Url::parse(text).map_err(|e| Error::config(text, format!("not a valid URL: {e}")))?;
        match url.scheme() {
            "file" => {
                let p = url.to_file_path().map_err(|()| Error::config(text, "file:// URL must hold an absolute path"))?;
                Self::local(&p, text, create)
            }
            "memory" => Ok(Location {
                store: Arc::new(InMemory::new()),
                prefix: Path::from(url.path().trim_start_matches('/')),
                display: text.to_string(),
                local: None,
                fs: None,
                root: None,
                dates: None,
            }),
            scheme => {
                check_options(scheme, options)?;
                let (store, prefix) = cloud_store(&url, options).map_err(|e| Error::config(text, format!("unsupported object store URL: {e}")))?;
                Ok(Location { store: Arc::from(store), prefix, display: text.trim_end_matches('/').to_string(), local: None, fs: None, root: None, dates: None })
            }
        }
    }

    /// A local folder (created when missing) or file.
    fn local(path: &FsPath, display: &str, create: bool) -> Result<Self> {
        let abs = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().map_err(|source| Error::Io { path: path.into(), source })?.join(path) };
        let root = if abs.is_file() { abs.parent().map(FsPath::to_path_buf).unwrap_or_default() } else { abs.clone() };
        if !root.exists() && !create {
            return Err(Error::Input { path: display.to_string(), message: "no such file or folder".into() });
        }
        if !root.exists() {
            std::fs::create_dir_all(&root).map_err(|source| Error::Io { path: root.clone(), source })?;
        }
        let fs = Arc::new(LocalFileSystem::new_with_prefix(&root).map_err(|e| Error::storage(display, e))?);
        // Objects are named by their canonical path, so that the manifest recognises them
        // whatever working directory or `..` a pipeline reached them through.
        let canonical = std::fs::canonicalize(&abs).map(|p| p.display().to_string());
        let display = canonical.as_deref().unwrap_or(display);
        let prefix = if abs.is_file() { Path::from(abs.file_name().unwrap_or_default().to_string_lossy().as_ref()) } else { Path::default() };
        let root = std::fs::canonicalize(&root).ok();
        Ok(Location { store: fs.clone(), prefix, display: display.trim_end_matches('/').to_string(), local: Some(abs), fs: Some(fs), root, dates: None })
    }

    /// An in-memory store (tests).
    pub fn memory() -> Self {
        Location { store: Arc::new(InMemory::new()), prefix: Path::default(), display: "memory://".into(), local: None, fs: None, root: None, dates: None }
    }

    /// This location, listing only the keys of `range`'s days (see [`DateRange`] for the
    /// folder layouts recognised) plus keys outside any date folder. Reads, writes and
    /// [`Location::join`]ed locations are not affected.
    pub fn with_date_range(mut self, range: DateRange) -> Self {
        self.dates = Some(range);
        self
    }

    /// The local path, when this location is on the local filesystem.
    pub fn local_path(&self) -> Option<&FsPath> {
        self.local.as_deref()
    }

    /// The location `rel` below this one (`rel` uses `/`).
    pub fn join(&self, rel: &str) -> Location {
        let mut prefix = self.prefix.clone();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            prefix = prefix.join(part);
        }
        Location {
            store: self.store.clone(),
            prefix,
            display: format!("{}/{}", self.display, rel.trim_matches('/')),
            local: self.local.as_ref().map(|l| l.join(rel)),
            fs: self.fs.clone(),
            root: self.root.clone(),
            dates: None,
        }
    }

    /// Every object at or below this location, sorted by key (code-point order), so that a
    /// run processes objects in a stable order.
    ///
    /// # Errors
    /// [`Error::Storage`] when listing fails.
    pub fn list(&self) -> Result<Vec<ObjectMeta>> {
        Ok(self.list_with_errors()?.0)
    }

    /// [`Location::list`], and on a local folder the entries that could not be listed (a
    /// symlink loop, a folder without permission) as error texts instead of failing the
    /// whole listing: one bad entry must not stop a batch. On object stores a listing error
    /// is a storage failure.
    ///
    /// # Errors
    /// [`Error::Storage`] when listing fails as a whole.
    pub fn list_with_errors(&self) -> Result<(Vec<ObjectMeta>, Vec<String>)> {
        use futures::StreamExt;
        let store = self.store.clone();
        let prefix = self.prefix.clone();
        if let Some(root) = self.local_root() {
            return Ok(self.walk_local(&root));
        }
        if let Some(range) = self.dates {
            let mut items = block_on(list_dated(store, prefix, range)).map_err(|e| Error::storage(&self.display, e))?;
            items.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
            return Ok((items, Vec::new()));
        }
        let tolerant = false;
        let (mut items, errors) = block_on(async move {
            let mut v: Vec<ObjectMeta> = Vec::new();
            let mut errors = Vec::new();
            let mut stream = store.list(Some(&prefix));
            while let Some(item) = stream.next().await {
                match item {
                    Ok(meta) => v.push(meta),
                    Err(e) if tolerant => errors.push(e.to_string()),
                    Err(e) => return Err(e),
                }
            }
            // A prefix naming one object lists nothing below it: ask for the object itself too.
            if v.is_empty() && !prefix.as_ref().is_empty() {
                if let Ok(meta) = store.head(&prefix).await {
                    v.push(meta);
                }
            }
            Ok::<_, object_store::Error>((v, errors))
        })
        .map_err(|e| Error::storage(&self.display, e))?;
        items.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
        Ok((items, errors))
    }

    /// The folder the local store is rooted at.
    fn local_root(&self) -> Option<PathBuf> {
        self.root.clone()
    }

    /// Lists a local folder (or file) with walkdir: following links, sorted, and keeping
    /// the entries it cannot read (a symlink loop, a folder without permission) as errors
    /// so the rest of the folder is still read.
    fn walk_local(&self, root: &FsPath) -> (Vec<ObjectMeta>, Vec<String>) {
        let start = root.join(self.prefix.as_ref());
        let (mut items, mut errors) = (Vec::new(), Vec::new());
        let dates = self.dates;
        // A folder outside the date range is not entered at all.
        // Folders are named from the store's root, so that the prefix's own date folders
        // (a location inside `2024/03/`) count too.
        let in_range = |e: &walkdir::DirEntry| match (&dates, e.path().strip_prefix(root)) {
            (Some(range), Ok(rel)) if e.file_type().is_dir() => {
                let segs: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                DatePath::of_prefix(&segs.iter().map(String::as_str).collect::<Vec<_>>(), range).is_some()
            }
            _ => true,
        };
        for entry in walkdir::WalkDir::new(&start).follow_links(true).sort_by_file_name().into_iter().filter_entry(in_range) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // "<path>: <why>", so the quarantine line can name the entry itself.
                    let path = e.path().map_or_else(|| start.display().to_string(), |p| p.display().to_string());
                    errors.push(format!("{path}\u{1f}{e}"));
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(root) else { continue };
            let location = Path::from_iter(rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()));
            match entry.metadata() {
                Ok(md) => items.push(ObjectMeta {
                    location,
                    last_modified: md.modified().map(chrono::DateTime::<chrono::Utc>::from).unwrap_or_default(),
                    size: md.len(),
                    e_tag: None,
                    version: None,
                }),
                Err(e) => errors.push(format!("{}\u{1f}{e}", entry.path().display())),
            }
        }
        items.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
        (items, errors)
    }

    /// How an object key of [`Location::list`] is shown in `source_object` and messages:
    /// this location's text joined with the key's part below the prefix.
    pub fn display_key(&self, key: &Path) -> String {
        let k = key.as_ref();
        let p = self.prefix.as_ref();
        let rel = k.strip_prefix(p).unwrap_or(k).trim_start_matches('/');
        // Local files are shown by their real names, not object_store's percent-encoding.
        let decoded;
        let rel = if self.fs.is_some() {
            decoded = decode_key(rel);
            decoded.as_str()
        } else {
            rel
        };
        if rel.is_empty() {
            self.display.clone()
        } else {
            format!("{}/{}", self.display, rel)
        }
    }

    /// [`Location::list`] with each object's shown name ([`Location::display_key`]). A
    /// zero-byte object whose key is also a folder of other keys is a directory marker (an
    /// S3 console "folder"); object_store drops the trailing `/` of such keys, so it is put
    /// back here and the reader skips the object as `directory_marker`.
    ///
    /// # Errors
    /// [`Error::Storage`] when listing fails.
    pub fn list_shown(&self) -> Result<Listing> {
        let (metas, errors) = self.list_with_errors()?;
        let keys: Vec<&str> = metas.iter().map(|m| m.location.as_ref()).collect();
        let objects = metas
            .iter()
            .map(|m| {
                let k = m.location.as_ref();
                let folder = m.size == 0 && keys.iter().any(|o| o.len() > k.len() && o.starts_with(k) && o.as_bytes()[k.len()] == b'/');
                let mut shown = self.display_key(&m.location);
                if folder {
                    shown.push('/');
                }
                (m.clone(), shown)
            })
            .collect();
        let unlisted = errors
            .into_iter()
            .map(|e| match e.split_once('\u{1f}') {
                Some((path, why)) => (path.to_string(), why.to_string()),
                None => (self.display.clone(), e),
            })
            .collect();
        Ok(Listing { objects, unlisted })
    }

    /// Reads a whole object by its key from [`Location::list`].
    ///
    /// # Errors
    /// [`Error::Storage`] naming the object.
    pub fn get(&self, key: &Path) -> Result<Bytes> {
        if let Some(root) = self.local_root() {
            let path = root.join(decode_key(key.as_ref()));
            return match std::fs::read(&path) {
                Ok(v) => Ok(Bytes::from(v)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::storage(
                    self.display_key(key),
                    object_store::Error::NotFound { path: path.display().to_string(), source: Box::new(e) },
                )),
                Err(source) => Err(Error::Io { path, source }),
            };
        }
        let store = self.store.clone();
        let k = key.clone();
        block_on(async move { store.get(&k).await?.bytes().await }).map_err(|e| Error::storage(self.display_key(key), e))
    }

    /// Reads `rel` below this location; `Ok(None)` when it does not exist.
    ///
    /// # Errors
    /// [`Error::Storage`] for failures other than "not found".
    pub fn get_rel(&self, rel: &str) -> Result<Option<Bytes>> {
        let key = self.join(rel).prefix;
        match self.get(&key) {
            Ok(b) => Ok(Some(b)),
            Err(Error::Storage { source: object_store::Error::NotFound { .. }, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `bytes` to `rel` below this location atomically (whole-object put).
    ///
    /// # Errors
    /// [`Error::Storage`] naming the object.
    pub fn put(&self, rel: &str, bytes: Bytes) -> Result<()> {
        let key = self.join(rel).prefix;
        let store = self.store.clone();
        block_on(async move { store.put(&key, PutPayload::from(bytes)).await.map(|_| ()) })
            .map_err(|e| Error::storage(format!("{}/{}", self.display, rel), e))
    }

    /// Writes `bytes` to `rel` only if nothing is there yet (atomic create); `Ok(false)` when
    /// an object already exists. The building block of the run lock.
    ///
    /// # Errors
    /// [`Error::Storage`] naming the object (also when the store cannot create atomically).
    pub fn put_new(&self, rel: &str, bytes: Bytes) -> Result<bool> {
        let key = self.join(rel).prefix;
        let store = self.store.clone();
        let opts = object_store::PutOptions { mode: object_store::PutMode::Create, ..Default::default() };
        match block_on(async move { store.put_opts(&key, PutPayload::from(bytes), opts).await }) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(Error::storage(format!("{}/{}", self.display, rel), e)),
        }
    }

    /// Deletes `rel` below this location (missing is fine).
    ///
    /// # Errors
    /// [`Error::Storage`] naming the object.
    pub fn delete(&self, rel: &str) -> Result<()> {
        let key = self.join(rel).prefix;
        let store = self.store.clone();
        match block_on(async move { store.delete(&key).await }) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::storage(format!("{}/{}", self.display, rel), e)),
        }
    }

    /// Keys below `rel` relative to this location's prefix (`a/b.parquet`), sorted.
    ///
    /// # Errors
    /// [`Error::Storage`] when listing fails.
    pub fn list_rel(&self, rel: &str) -> Result<Vec<(String, ObjectMeta)>> {
        let base = self.prefix.as_ref().to_string();
        Ok(self
            .join(rel)
            .list()?
            .into_iter()
            .map(|m| {
                let k = m.location.as_ref();
                let r = k.strip_prefix(base.as_str()).unwrap_or(k).trim_start_matches('/').to_string();
                (r, m)
            })
            .collect())
    }
}

/// The store of a cloud URL: the builder reads the cloud's environment variables first
/// (the standard credential chain), then `options` override them key by key. Other URL
/// forms (`https://...`) go through `object_store::parse_url_opts`.
fn cloud_store(url: &Url, options: &[(String, String)]) -> object_store::Result<(Box<dyn ObjectStore>, Path)> {
    use object_store::aws::AmazonS3Builder;
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    let opts = || options.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone()));
    let (scheme, path) = object_store::ObjectStoreScheme::parse(url)?;
    // parse_url_opts drops keys it cannot parse; check_options has already refused them.
    let store: Box<dyn ObjectStore> = match scheme {
        object_store::ObjectStoreScheme::AmazonS3 => {
            let b = opts().fold(AmazonS3Builder::from_env().with_url(url.as_str()), |b, (k, v)| match k.parse() {
                Ok(k) => b.with_config(k, v),
                Err(_) => b,
            });
            Box::new(b.build()?)
        }
        object_store::ObjectStoreScheme::MicrosoftAzure => {
            let b = opts().fold(MicrosoftAzureBuilder::from_env().with_url(url.as_str()), |b, (k, v)| match k.parse() {
                Ok(k) => b.with_config(k, v),
                Err(_) => b,
            });
            Box::new(b.build()?)
        }
        object_store::ObjectStoreScheme::GoogleCloudStorage => {
            let b = opts().fold(GoogleCloudStorageBuilder::from_env().with_url(url.as_str()), |b, (k, v)| match k.parse() {
                Ok(k) => b.with_config(k, v),
                Err(_) => b,
            });
            Box::new(b.build()?)
        }
        _ => return object_store::parse_url_opts(url, opts()),
    };
    Ok((store, path))
}

/// Lists below `prefix` folder by folder (`list_with_delimiter`), not entering date folders
/// outside `range`; below a day folder inside the range, one flat listing.
async fn list_dated(store: Arc<dyn ObjectStore>, prefix: Path, range: DateRange) -> object_store::Result<Vec<ObjectMeta>> {
    use futures::TryStreamExt;
    let segs: Vec<&str> = prefix.as_ref().split('/').filter(|s| !s.is_empty()).collect();
    let Some(start) = DatePath::of_prefix(&segs, &range) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    let mut stack = vec![(prefix.clone(), start)];
    while let Some((dir, at)) = stack.pop() {
        if at.is_day() {
            out.extend(store.list(Some(&dir)).try_collect::<Vec<_>>().await?);
            continue;
        }
        let listing = store.list_with_delimiter(Some(&dir)).await?;
        out.extend(listing.objects);
        for sub in listing.common_prefixes {
            let name = sub.filename().unwrap_or_default().to_string();
            if let Some(next) = at.descend(&name, &range) {
                stack.push((sub, next));
            }
        }
    }
    // A prefix naming one object lists nothing below it: ask for the object itself too.
    if out.is_empty() && !prefix.as_ref().is_empty() {
        if let Ok(meta) = store.head(&prefix).await {
            out.push(meta);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
