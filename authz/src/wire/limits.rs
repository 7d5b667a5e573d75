//! Size and shape limits of the v1 format, enforced before and during decoding.

/// Largest encoded warrant (envelope) accepted: 64 KiB.
pub const MAX_WARRANT_BYTES: usize = 64 * 1024;
/// Largest encoded stack accepted: 256 KiB.
pub const MAX_STACK_BYTES: usize = 256 * 1024;
/// Deepest raw CBOR nesting accepted before a payload is decoded.
///
/// Constraint nesting (All, Any, Not) is limited separately to
/// [`MAX_CONSTRAINT_NESTING`]; each constraint level costs about three CBOR levels,
/// so this bound admits every warrant that limit admits and nothing far beyond.
pub const MAX_CBOR_NESTING: usize = 128;
/// Deepest nesting of composite constraints, as the reference counts it.
pub const MAX_CONSTRAINT_NESTING: usize = 32;
/// Most tools in one warrant.
pub const MAX_TOOLS: usize = 256;
/// Most argument constraints on one tool.
pub const MAX_CONSTRAINTS_PER_TOOL: usize = 64;
/// Most extension entries in one warrant.
pub const MAX_EXTENSION_KEYS: usize = 64;
/// Largest extension value.
pub const MAX_EXTENSION_VALUE_BYTES: usize = 8 * 1024;
/// Most warrants in one chain.
pub const MAX_CHAIN_LENGTH: usize = 65;
