//! Synthetic populations and samples (being written).
