//! Driving a running control plane over HTTP through every audited method (being written).
