//! The README keeps two promises that no other test reads: it opens with the two commands a fresh
//! machine needs (serve the demo, run every test), and each shipped model's table holds the
//! manifest's measured rows (which `shipped_models` re-measures), so an edit cannot leave stale
//! figures under a model's heading or paste new ones somewhere else.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use serde_json::Value;

fn repo_path(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn repo_file(path: &str) -> String {
    let full = repo_path(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn readme_opens_with_the_title_and_the_two_commands() {
    let readme = repo_file("README.md");
    let first = readme.lines().next().unwrap_or("");
    assert!(first.starts_with("# "), "README.md must open with its title, not {first:?}");
    // the first code block: the demo command, then the test command
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```"))
        .skip(1) // the opening fence
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert_eq!(block.len(), 2, "the first code block holds the two commands: {block:?}");
    assert!(block[0].starts_with("npm --prefix web run demo"), "demo command first: {:?}", block[0]);
    assert!(block[1].starts_with(".ci/run"), "test command second: {:?}", block[1]);
    // the test command named there is the one CI runs
    assert!(repo_path(".ci/run").is_file(), ".ci/run is missing");
}

/// The table rows under the paragraph that names `file`: (set, segments, tries, n, exact, cell, valid).
fn table_under(readme: &str, file: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = readme.lines().collect();
    let needle = format!("`web/public/models/{file}`");
    let head = lines
        .iter()
        .position(|l| l.starts_with("**") && l.contains(&needle))
        .unwrap_or_else(|| panic!("README has no model heading naming {needle}"));
    let table = head + lines[head..].iter().position(|l| l.starts_with("| held-out set")).expect("a table");
    assert!(lines[table + 1].starts_with("|---"), "the header rule under {needle}'s table");
    lines[table + 2..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// "97.4 %", also bold ("**97.4 %**") where the README stresses a figure.
fn percent(cell: &str) -> f64 {
    cell.trim_matches('*').strip_suffix(" %").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("not a percentage: {cell:?}"))
}

#[test]
fn each_shipped_models_readme_table_is_its_manifest_rows() {
    let readme = repo_file("README.md");
    let manifest: Value = serde_json::from_str(&repo_file("web/public/models/manifest.json")).unwrap();
    for model in manifest["models"].as_array().expect("models") {
        let file = model["file"].as_str().expect("file");
        let rows = model["eval"].as_array().expect("eval");
        let table = table_under(&readme, file);
        assert_eq!(table.len(), rows.len(), "{file}: README table rows vs manifest rows");
        for (cells, row) in table.iter().zip(rows) {
            assert_eq!(cells.len(), 7, "{file}: {cells:?}");
            let what = match row["data"].as_str() {
                Some("sudoku") => format!("Sudoku {}", row["band"].as_str().unwrap()),
                _ => format!("{0}×{0}", row["maze_side"].as_u64().or(row["maze_size"].as_u64()).unwrap()),
            };
            assert!(cells[0].contains(&what), "{file}: row {cells:?} is not for {what}");
            // a row run as the page runs by default (ACT halting, at most N segments) reads "ACT ≤ N"
            let segments = match row["act"].as_bool() {
                Some(true) => format!("ACT ≤ {}", row["segments"]),
                _ => row["segments"].to_string(),
            };
            assert_eq!(cells[1], segments, "{file}: segments in {cells:?}");
            assert_eq!(cells[2], row["tries"].as_u64().unwrap_or(1).to_string(), "{file}: tries in {cells:?}");
            assert_eq!(cells[3], row["count"].to_string(), "{file}: n in {cells:?}");
            for (cell, key) in cells[4..].iter().zip(["exact", "cell", "valid"]) {
                let want = 100.0 * row[key].as_f64().unwrap();
                // the README rounds to one decimal
                assert!((percent(cell) - want).abs() <= 0.05 + 1e-9, "{file}: {key} {cell} vs manifest {want:.2} %");
            }
        }
    }
}
