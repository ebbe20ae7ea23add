//! What the server's integration tests share: a state on a fresh data directory.

use auditlog_server::{open, AppState, Config, Overrides};

/// A state on a fresh data directory with default settings; keep the
/// directory for as long as the state is used.
pub fn fresh_state() -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let state = open(
        Config::resolve(
            Overrides {
                data_dir: Some(dir.path().join("data")),
                ..Default::default()
            },
            None,
        )
        .unwrap(),
    )
    .unwrap();
    (state, dir)
}
