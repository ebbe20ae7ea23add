//! Generates one typed entry point per catalog method (`methods.rs` in
//! OUT_DIR) from the built-in catalog file, so the SDK cannot drift from it.

use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    resource_type: Vec<ResourceType>,
    #[serde(default)]
    method: Vec<Method>,
}

#[derive(serde::Deserialize)]
struct ResourceType {
    name: String,
    #[serde(default)]
    scope: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Method {
    name: String,
    resource_type: String,
    access_type: String,
    description: String,
}

fn snake(ty: &str) -> String {
    ty.to_ascii_lowercase()
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let path = manifest.join("../catalog/data/confluent-cloud.toml");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = String::new();
    for m in &file.method {
        let Some(rt) = file
            .resource_type
            .iter()
            .find(|r| r.name == m.resource_type)
        else {
            panic!(
                "method {} names unknown resource type {}",
                m.name, m.resource_type
            );
        };
        let chain: Vec<&str> = rt
            .scope
            .iter()
            .map(String::as_str)
            .chain([rt.name.as_str()])
            .collect();
        let args = |types: &[&str]| {
            types
                .iter()
                .map(|t| format!("{}: impl Into<String>", snake(t)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let pushes = |types: &[&str]| {
            types
                .iter()
                .map(|t| format!("(\"{t}\", {}.into())", snake(t)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let parent = &chain[..chain.len() - 1];
        let path_doc = chain.join(" › ");
        writeln!(
            out,
            "/// `{}` ({}, {}): {}",
            m.name,
            m.access_type,
            path_doc,
            m.description.trim()
        )
        .ok();
        writeln!(
            out,
            "#[derive(Debug, Clone, Copy, Default)]\npub struct {};",
            m.name
        )
        .ok();
        writeln!(out, "impl {} {{", m.name).ok();
        writeln!(
            out,
            "    /// The method name records carry.\n    pub const NAME: &'static str = \"{}\";",
            m.name
        )
        .ok();
        writeln!(out, "    /// The resource type it acts on.\n    pub const RESOURCE_TYPE: &'static str = \"{}\";", m.resource_type).ok();
        writeln!(out, "    /// An event about the {} itself.", rt.name).ok();
        writeln!(out, "    pub fn on({}) -> EventBuilder {{\n        EventBuilder::with_method(builtin(Self::NAME)).with_chain(vec![{}])\n    }}", args(&chain), pushes(&chain)).ok();
        if !parent.is_empty() {
            writeln!(out, "    /// An event about its parent: a call on the collection, or one that failed before the resource existed.").ok();
            writeln!(out, "    pub fn on_parent({}) -> EventBuilder {{\n        EventBuilder::with_method(builtin(Self::NAME)).with_chain(vec![{}])\n    }}", args(parent), pushes(parent)).ok();
        }
        writeln!(out, "}}\n").ok();
    }
    writeln!(out, "/// Every method name with a typed entry point, in catalog order.\npub const ALL: &[&str] = &[{}];",
        file.method.iter().map(|m| format!("\"{}\"", m.name)).collect::<Vec<_>>().join(", ")).ok();
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("methods.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
