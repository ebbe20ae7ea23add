//! Reading records from files, directories and stdin, in any of the shapes
//! people keep them: one JSON document, a JSON array, NDJSON, or several
//! documents one after another.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use auditlog_model::json::{self, Json, Limits, ParseError};

/// One record as found in an input, or the reason it could not be read.
#[derive(Debug)]
pub struct Found {
    /// File name, or `-` for stdin.
    pub origin: String,
    /// 1-based position of the record within its input.
    pub index: usize,
    /// 1-based line where the record starts.
    pub line: usize,
    /// The parsed value, or the parse error.
    pub value: Result<Json, ParseError>,
}

/// Expand paths: directories become their `.json`, `.ndjson` and `.jsonl`
/// files (recursively, sorted); `-` or no paths at all mean stdin.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    if paths.is_empty() {
        return Ok(vec![PathBuf::from("-")]);
    }
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
        } else if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).with_context(|| format!("reading directory {}", p.display()))?;
            found.sort();
            if found.is_empty() {
                anyhow::bail!("{} holds no .json, .ndjson or .jsonl files", p.display());
            }
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "json" | "ndjson" | "jsonl"))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Read all of one input.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading stdin")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Split one input into records.
///
/// A top-level array is a list of records. Otherwise the input is a stream
/// of values; if that stream breaks and the input is line-delimited, each
/// line is read on its own so one bad line does not hide the rest.
pub fn records(origin: &str, bytes: &[u8]) -> Vec<Found> {
    let limits = Limits::default();
    // Editors on some systems add a byte-order mark; it is not part of the data.
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'[') {
        return match json::parse_with(bytes, limits) {
            Ok(Json::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| Found {
                    origin: origin.to_owned(),
                    index: i + 1,
                    line: 1,
                    value: Ok(v),
                })
                .collect(),
            Ok(other) => vec![Found {
                origin: origin.to_owned(),
                index: 1,
                line: 1,
                value: Ok(other),
            }],
            Err(e) => vec![Found {
                origin: origin.to_owned(),
                index: 1,
                line: e.line,
                value: Err(e),
            }],
        };
    }
    let items = json::parse_stream(bytes, limits);
    let broken = items.last().is_some_and(|i| i.value.is_err());
    if broken && looks_line_delimited(bytes) {
        return by_line(origin, bytes);
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, it)| Found {
            origin: origin.to_owned(),
            index: i + 1,
            line: it.line,
            value: it.value,
        })
        .collect()
}

fn looks_line_delimited(bytes: &[u8]) -> bool {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    lines.next().is_some_and(|l| json::parse(l).is_ok()) && lines.next().is_some()
}

fn by_line(origin: &str, bytes: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value = json::parse(line).map_err(|mut e| {
            e.line = n + 1;
            e
        });
        out.push(Found {
            origin: origin.to_owned(),
            index: out.len() + 1,
            line: n + 1,
            value,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(records("x", b"[{\"a\":1},{\"b\":2}]").len(), 2);
        assert_eq!(records("x", b"{\"a\":1}\n{\"b\":2}\n").len(), 2);
        assert_eq!(records("x", b"{\n \"a\": 1\n}\n{\n \"b\": 2\n}").len(), 2);
        let r = records("x", b"{\"a\":1}\n{\"b\":\n{\"c\":3}\n");
        assert_eq!(r.len(), 3, "line mode keeps going after a bad line");
        assert!(r[0].value.is_ok() && r[1].value.is_err() && r[2].value.is_ok());
        assert_eq!(r[1].line, 2);
        assert_eq!(records("x", b"\xEF\xBB\xBF{}").len(), 1);
    }
}
