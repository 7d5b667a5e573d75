//! Which Ed25519 equation a verdict follows: the batchable cofactored one, or
//! `verify_strict`'s cofactorless one.

/// How chain signatures (and, in the server, PoP signatures) are judged.
///
/// The two criteria differ on one class of input only: a signature whose `R` or key
/// carries a small-order (torsion) component, which only the key's holder can make
/// (see the [module's compatibility note](crate::batch#compatibility-note)).
///
/// ```
/// use tenuo_authz::crypto::SignatureCriterion;
/// use tenuo_authz::decision::Policy;
///
/// // Bit-for-bit the reference's verdicts, one scalar multiplication per signature.
/// let exact = Policy { signatures: SignatureCriterion::Strict, ..Policy::default() };
/// assert_ne!(exact, Policy::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureCriterion {
    /// The cofactored equation `[8]([s]B - [k]A - R) = 0`, with checks 1 to 3 of
    /// [`crate::crypto`]: a chain's signatures are verified in one multiscalar
    /// multiplication, and the server batches PoPs across requests. The default.
    #[default]
    Cofactored,
    /// `verify_strict` exactly (`R = [s]B - [k]A`): every verdict is the reference
    /// implementation's, at the price of verifying each signature by itself (the
    /// README's Performance section has the cost), and the server verifies PoPs
    /// inline instead of batching them. Cached chains cost the same under both.
    Strict,
}
