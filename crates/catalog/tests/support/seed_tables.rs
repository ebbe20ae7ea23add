//! Readers for the method tables of the frozen reference pages, shared by the
//! catalog's own tests and the CLI's catalog test.
#![allow(dead_code)]

use std::path::PathBuf;

/// The text of the reference page whose file name starts with `prefix`.
pub fn spec(prefix: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/spec");
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no spec page {prefix}"));
    std::fs::read_to_string(entry).unwrap()
}

fn is_method_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The resource type a method table belongs to: the nearest preceding line
/// that says "resource type X" / "resource type: X", or a heading "Title (X)".
fn table_resource_type(lines: &[&str], header: usize) -> String {
    for line in lines[..header].iter().rev() {
        let l = line.trim();
        if let Some(i) = l.find("resource type") {
            let rest = l[i + "resource type".len()..]
                .trim_start_matches(':')
                .trim();
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if !word.is_empty() {
                return word;
            }
        }
        if l.ends_with(')') && !l.ends_with(").") {
            if let Some(open) = l.rfind('(') {
                let inner = &l[open + 1..l.len() - 1];
                if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    return inner.to_string();
                }
            }
        }
    }
    panic!("no resource type before line {header}");
}

/// (method, description, resource type) for every row of every method table.
/// Handles the three table layouts the pages use: `Name desc`, `Name | desc |`,
/// and name and description on separate lines.
pub fn method_rows(page: &str) -> Vec<(String, String, String)> {
    let lines: Vec<&str> = page.lines().collect();
    let mut rows = Vec::new();
    for (h, line) in lines.iter().enumerate() {
        if !line.starts_with("Method name") {
            continue;
        }
        let rt = table_resource_type(&lines, h);
        let body: Vec<&str> = lines[h + 1..]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.starts_with("---") && !l.starts_with("Action triggering"))
            .collect();
        let mut i = 0;
        // Skip blank lines before the first row.
        while body.get(i).is_some_and(|l| l.is_empty()) {
            i += 1;
        }
        while let Some(l) = body.get(i) {
            if l.is_empty() {
                i += 1;
                continue;
            }
            let first = l.split([' ', '|']).next().unwrap();
            if !is_method_name(first) {
                break;
            }
            let rest = l[first.len()..].trim().trim_matches('|').trim().to_string();
            if rest.is_empty() {
                // Name alone on its line: the description is the next non-blank line.
                let mut j = i + 1;
                while body.get(j).is_some_and(|l| l.is_empty()) {
                    j += 1;
                }
                let desc = body.get(j).copied().unwrap_or_default();
                if !desc.starts_with("A request") {
                    break;
                }
                rows.push((first.to_string(), desc.to_string(), rt.clone()));
                i = j + 1;
            } else {
                if !rest.starts_with("A request") {
                    break;
                }
                rows.push((first.to_string(), rest, rt.clone()));
                i += 1;
            }
        }
    }
    rows
}
