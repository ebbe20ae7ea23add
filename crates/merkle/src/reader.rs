//! The one thing this crate asks of a hash store: read stored hashes by
//! stored index.

use crate::error::TreeError;
use crate::hash::Hash;
use crate::node::NodeId;

/// Read access to stored hashes, addressed by stored index
/// ([`NodeId::stored_index`]).
///
/// Every root or proof asks for all the hashes it needs in a single call
/// (at most about 2·log₂(size) of them), so a SQLite store can answer with
/// one `WHERE idx IN (…)` query and a file store with a few `pread`s.
pub trait HashReader {
    /// Why a read failed: I/O, or an index the store does not hold.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The hashes at `indexes`, one per index and in the same order.
    ///
    /// `indexes` may come in any order. Asking for an index the store does
    /// not hold must be an error, never a made-up hash. Returning a
    /// different number of hashes is reported as [`TreeError::ReadCount`].
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    type Error = R::Error;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        (**self).read_hashes(indexes)
    }
}

/// Reads the hashes of `nodes`, checking the reader kept its contract.
pub(crate) fn read_nodes<R: HashReader + ?Sized>(
    reader: &R,
    nodes: &[NodeId],
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let indexes: Vec<u64> = nodes.iter().map(|n| n.stored_index()).collect();
    let hashes = reader.read_hashes(&indexes).map_err(TreeError::Read)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::ReadCount {
            requested: indexes.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes)
}
