//! Rendering results for people (aligned tables, colour on terminals) and
//! for programs (JSON, CSV).

use std::io::{IsTerminal, Write};

use clap::ValueEnum;

/// How to print a result set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// A JSON array.
    Json,
    /// RFC 4180 CSV with a header row.
    Csv,
}

/// Rows with named columns.
#[derive(Debug, Default)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Rows to print in red on a terminal (failures), by index.
    pub highlight: Vec<bool>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
            highlight: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Aligned columns; the last column is not padded. Cells longer than
    /// `max_width` are cut with an ellipsis when writing to a terminal.
    pub fn write_table(
        &self,
        out: &mut dyn Write,
        max_width: Option<usize>,
    ) -> std::io::Result<()> {
        let cut = |s: &str| -> String {
            match max_width {
                Some(w) if s.chars().count() > w => {
                    s.chars().take(w.saturating_sub(1)).chain(['…']).collect()
                }
                _ => s.to_owned(),
            }
        };
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| cut(c)).collect())
            .collect();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &cells {
            for (i, c) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let style = Style::stdout();
        let line = |cols: &[String]| -> String {
            let mut s = String::new();
            for (i, c) in cols.iter().enumerate() {
                if i + 1 == cols.len() {
                    s.push_str(c);
                } else {
                    let w = widths.get(i).copied().unwrap_or(0);
                    s.push_str(c);
                    s.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
                }
            }
            s.trim_end().to_owned()
        };
        let head: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        writeln!(out, "{}", style.bold(&line(&head)))?;
        for (i, row) in cells.iter().enumerate() {
            if self.highlight.get(i).copied().unwrap_or(false) {
                writeln!(out, "{}", style.red(&line(row)))?;
            } else {
                writeln!(out, "{}", line(row))?;
            }
        }
        Ok(())
    }

    pub fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let head: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        writeln!(out, "{}", csv_line(&head))?;
        for row in &self.rows {
            writeln!(out, "{}", csv_line(row))?;
        }
        Ok(())
    }
}

fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Write `value` as pretty JSON followed by a newline.
pub fn write_json<T: serde::Serialize + ?Sized>(
    out: &mut dyn Write,
    value: &T,
) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// ANSI styling, on only when the stream is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn stdout() -> Style {
        Style {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    pub fn stderr() -> Style {
        Style {
            on: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Whether styling is on (the stream is a terminal).
    pub fn is_on(&self) -> bool {
        self.on
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("1;33", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(
            csv_line(&["a".into(), "b,c".into(), "say \"hi\"".into()]),
            "a,\"b,c\",\"say \"\"hi\"\"\""
        );
    }

    #[test]
    fn table_aligns() {
        let mut t = Table::new(&["A", "LONGER"]);
        t.push(vec!["xxxx".into(), "y".into()]);
        let mut out = Vec::new();
        t.write_table(&mut out, None).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A     LONGER\nxxxx  y\n");
    }
}
