//! The README's compatibility table states the versions `Cargo.toml` builds with.

/// The version requirement of dependency `name` in `manifest`'s `[dependencies]`, cut to
/// major.minor (`"0.33.1"` → `"0.33"`).
fn required(manifest: &str, name: &str) -> String {
    let dependencies = &manifest[manifest.find("\n[dependencies]").expect("[dependencies]")..];
    let dependencies = &dependencies[..dependencies[1..]
        .find("\n[")
        .map_or(dependencies.len(), |i| i + 1)];
    let line = dependencies
        .lines()
        .find(|line| line.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in [dependencies]"));
    let version = line.split('"').nth(1).expect("a quoted version");
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

#[test]
fn the_compatibility_table_matches_the_manifest() {
    let manifest = include_str!("../Cargo.toml");
    let readme = include_str!("../README.md");
    let header = readme
        .lines()
        .position(|line| line.starts_with("| xray-bridge | opentelemetry, opentelemetry_sdk |"))
        .expect("the compatibility table");
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|cell| cell.trim().to_owned())
            .collect()
    };
    let lines: Vec<&str> = readme.lines().collect();
    let names = cells(lines[header]);
    let row = cells(lines[header + 2]);
    let version = manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = "))
        .expect("package version");
    let rust = manifest
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = "))
        .expect("rust-version");
    for (name, stated) in names.iter().zip(&row) {
        let expected = match name.as_str() {
            "xray-bridge" => version
                .trim_matches('"')
                .split('.')
                .take(2)
                .collect::<Vec<_>>()
                .join("."),
            "Rust" => format!("{} or newer", rust.trim_matches('"')),
            "opentelemetry, opentelemetry_sdk" => {
                let api = required(manifest, "opentelemetry");
                assert_eq!(api, required(manifest, "opentelemetry_sdk"));
                api
            }
            crate_name => required(manifest, crate_name),
        };
        assert_eq!(stated, &expected, "README's {name} column");
    }
    assert_eq!(names.len(), 9, "{names:?}");
}
