//! Tests of the known-drift baseline: matching, applying, resolving, the file both ways, the merge.
