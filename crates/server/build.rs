//! Embeds MapLibre GL JS and the `pmtiles` protocol (installed by `scripts/web.sh` into
//! `web/node_modules`) into the server, so the map viewer works on closed networks with no CDN.
//!
//! Writes `$OUT_DIR/maplibre.rs` with `MAPLIBRE: Option<Maplibre>`: `Some` with the script, the
//! stylesheet and the version when the files are there, `None` (and a cargo warning) when they are
//! not — the server still builds, and its asset route answers 503 naming `scripts/web.sh`.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = manifest.join("../../web/node_modules/maplibre-gl");
    let js = dist.join("dist/maplibre-gl.js");
    let css = dist.join("dist/maplibre-gl.css");
    let package = dist.join("package.json");
    for path in [&js, &css, &package] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed={}", manifest.join("../../web/package-lock.json").display());

    let code = if js.is_file() && css.is_file() {
        let version = std::fs::read_to_string(&package).ok().and_then(|text| version_of(&text)).unwrap_or_default();
        format!(
            "Some(Maplibre {{ js: include_bytes!({js:?}), css: include_bytes!({css:?}), version: {version:?} }})",
            js = absolute(&js),
            css = absolute(&css),
        )
    } else {
        println!(
            "cargo:warning=MapLibre GL JS not found in {}: run scripts/web.sh, then rebuild; until then /map/assets/maplibre-gl.js and .css answer 503",
            absolute(&dist)
        );
        "None".to_owned()
    };
    // The PMTiles protocol for MapLibre (the viewer opens a package's tiles.pmtiles from disk).
    let pmtiles = manifest.join("../../web/node_modules/pmtiles/dist/pmtiles.js");
    println!("cargo:rerun-if-changed={}", pmtiles.display());
    let pmtiles_code = if pmtiles.is_file() {
        format!("Some(include_bytes!({:?}))", absolute(&pmtiles))
    } else {
        println!("cargo:warning=pmtiles.js not found in web/node_modules: run scripts/web.sh, then rebuild; until then the viewer cannot open PMTiles files");
        "None".to_owned()
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("maplibre.rs");
    std::fs::write(out, format!("/// MapLibre GL JS as embedded at build time (`None`: scripts/web.sh had not run).\npub const MAPLIBRE: Option<Maplibre> = {code};\n\
/// The `pmtiles` package's browser build (`dist/pmtiles.js`), as embedded at build time.\npub const PMTILES_JS: Option<&[u8]> = {pmtiles_code};\n"))
        .expect("write $OUT_DIR/maplibre.rs");
}

fn absolute(path: &Path) -> String {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

/// The `"version"` of a package.json, without a JSON parser (build dependencies cost build time).
fn version_of(package_json: &str) -> Option<String> {
    let after = &package_json[package_json.find("\"version\"")? + "\"version\"".len()..];
    let start = after.find('"')? + 1;
    let end = start + after[start..].find('"')?;
    Some(after[start..end].to_owned())
}
