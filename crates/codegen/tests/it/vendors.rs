//! Every vendor spec generates; the generated crates compile with no warnings.
