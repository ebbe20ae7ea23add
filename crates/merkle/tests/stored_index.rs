//! The stored-hash layout: checked against the order written out from its
//! definition (leaf j, then the subtrees leaf j completes, lowest first),
//! and against what appends actually produce.

use auditlog_merkle::{
    leaf_hash, stored_hash_count, stored_hashes_for_append, Frontier, MemoryHashStore, NodeId,
    Tree, MAX_TREE_SIZE,
};

/// The stored order by definition, for the first `leaves` leaves.
fn order_by_definition(leaves: u64) -> Vec<(u32, u64)> {
    let mut order = Vec::new();
    for j in 0..leaves {
        order.push((0, j));
        let mut level = 1;
        // Leaf j completes the level-l subtree ending at it when 2^l divides j + 1.
        while (j + 1) % (1 << level) == 0 {
            order.push((level, (j + 1) / (1 << level) - 1));
            level += 1;
        }
    }
    order
}

#[test]
fn layout_matches_the_definition() {
    let leaves = 5000;
    let order = order_by_definition(leaves);
    assert_eq!(order.len() as u64, stored_hash_count(leaves));
    for (i, &(level, index)) in order.iter().enumerate() {
        let node = NodeId::new(level, index).unwrap();
        assert_eq!(node.stored_index(), i as u64, "({level}, {index})");
        assert_eq!(NodeId::from_stored_index(i as u64), Some(node), "index {i}");
    }
}

#[test]
fn stored_hash_count_at_small_sizes() {
    // 2n - popcount(n), from the definition above.
    for n in 0..=300 {
        assert_eq!(
            stored_hash_count(n),
            order_by_definition(n).len() as u64,
            "size {n}"
        );
    }
}

#[test]
fn layout_round_trips_near_the_limit() {
    let top = stored_hash_count(MAX_TREE_SIZE);
    for i in (top - 200..top).chain([top / 2, top / 3, 1 << 40]) {
        let node = NodeId::from_stored_index(i).unwrap();
        assert_eq!(node.stored_index(), i);
        assert!(node.leaves().end <= MAX_TREE_SIZE);
    }
    assert_eq!(NodeId::from_stored_index(top), None);
    assert_eq!(NodeId::from_stored_index(u64::MAX), None);
    // The last leaf before the limit completes the whole-tree node.
    let whole = NodeId::new(62, 0).unwrap();
    assert_eq!(whole.stored_index(), top - 1);
    assert_eq!(whole.leaves(), 0..MAX_TREE_SIZE);
}

#[test]
fn node_ids_past_the_limit_are_refused() {
    assert!(NodeId::leaf(MAX_TREE_SIZE - 1).is_some());
    assert!(NodeId::leaf(MAX_TREE_SIZE).is_none());
    assert!(NodeId::new(62, 1).is_none());
    assert!(NodeId::new(63, 0).is_none());
    assert!(NodeId::new(200, 0).is_none());
    assert!(NodeId::new(1, u64::MAX).is_none());
    assert_eq!(NodeId::new(3, 2).unwrap().leaves(), 16..24);
}

/// Appends write exactly the next stored indexes, whether computed by a
/// frontier or read back from the store; and a batch is one contiguous run.
#[test]
fn appends_fill_the_layout_in_order() {
    let mut frontier = Frontier::new();
    let mut from_frontier = MemoryHashStore::new();
    let mut from_store = MemoryHashStore::new();
    let mut batch = Vec::new();
    let mut batch_start = 0;
    for i in 0u64..1000 {
        let leaf = leaf_hash(&i.to_be_bytes());

        let hashes = stored_hashes_for_append(i, leaf, &from_store).unwrap();
        assert_eq!(
            hashes.len() as u64,
            stored_hash_count(i + 1) - stored_hash_count(i)
        );
        from_store.append(stored_hash_count(i), &hashes).unwrap();

        frontier.append(leaf, &mut batch);
        // Flush every 37 leaves: batches straddle subtree boundaries.
        if i % 37 == 36 || i == 999 {
            from_frontier.append(batch_start, &batch).unwrap();
            batch.clear();
            batch_start = stored_hash_count(i + 1);
        }
    }
    assert_eq!(from_frontier, from_store);
    assert_eq!(from_store.len(), stored_hash_count(1000));

    let mut tree = Tree::new();
    for i in 0u64..1000 {
        tree.push_leaf_hash(leaf_hash(&i.to_be_bytes()));
    }
    assert_eq!(tree.store(), &from_store);
    assert_eq!(tree.leaf_hash(999), Some(leaf_hash(&999u64.to_be_bytes())));
    assert_eq!(tree.leaf_hash(1000), None);
}

#[test]
fn frontier_nodes_tile_the_tree() {
    let mut f = Frontier::new();
    let mut scratch = Vec::new();
    for size in 0u64..200 {
        let nodes: Vec<NodeId> = f.nodes().collect();
        assert_eq!(nodes.len(), size.count_ones() as usize);
        assert_eq!(nodes.len(), f.hashes().len());
        let mut next = 0;
        for n in &nodes {
            assert_eq!(n.leaves().start, next);
            next = n.leaves().end;
        }
        assert_eq!(next, size);
        f.append(leaf_hash(&size.to_be_bytes()), &mut scratch);
    }
}
