//! A small blocking HTTP client for talking to a running `auditlog serve`.

use std::time::Duration;

use anyhow::{Context, Result};

/// The default server address.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// A client for one server.
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

/// A response: status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    /// The `detail` of a problem+json body, or the body as text.
    pub fn detail(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).trim().to_owned())
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Client {
            base: base.trim_end_matches('/').to_owned(),
            agent,
        }
    }

    fn read(
        &self,
        what: &str,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply> {
        let mut r = r.with_context(|| {
            format!(
                "{what} ({}); is `auditlog serve` running there? Start it, or use --data-dir",
                self.base
            )
        })?;
        let status = r.status().as_u16();
        let body = r
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .context("reading the response")?;
        Ok(Reply { status, body })
    }

    /// GET a path (with query).
    pub fn get(&self, path: &str) -> Result<Reply> {
        let url = format!("{}{path}", self.base);
        self.read(&format!("GET {url}"), self.agent.get(&url).call())
    }

    /// GET a path, failing unless the answer is 200.
    pub fn get_ok(&self, path: &str) -> Result<Reply> {
        let r = self.get(path)?;
        if r.status != 200 {
            anyhow::bail!(
                "the server refused the query ({}): {}",
                r.status,
                r.detail()
            );
        }
        Ok(r)
    }

    /// POST a body.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Reply> {
        let url = format!("{}{path}", self.base);
        self.read(
            &format!("POST {url}"),
            self.agent
                .post(&url)
                .header("content-type", content_type)
                .send(body),
        )
    }
}

/// Percent-encode a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
