//! `embed_migrations!` reads `migrations/` at compile time: tell cargo to
//! rebuild this crate whenever a migration is added, changed or removed.
//!
//! Also exports a fingerprint of the migrations' SQL as
//! `ORDER_MIGRATIONS_FINGERPRINT`: the test harness names its template
//! database after it, so editing a migration never reuses a stale template.

use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new("../../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect_sql(dir, &mut files);
    files.sort();
    // FNV-1a, 64 bit: stable across Rust versions, unlike `DefaultHasher`.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.strip_prefix(dir).unwrap_or(path).to_string_lossy();
        let content = fs::read(path).unwrap_or_default();
        for byte in name.as_bytes().iter().chain(&[0]).chain(&content) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=ORDER_MIGRATIONS_FINGERPRINT={hash:016x}");
}

fn collect_sql(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_sql(&path, files);
        } else if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
}
