//! The per-item checks and the batched cofactored Ed25519 equation.
//!
//! For a signature `(R, s)` by key `A` over message `M`, with `k = SHA-512(R || A || M) mod L`,
//! an item is accepted when all of these hold:
//!
//! 1. `s` is canonical (`s < L`);
//! 2. the bytes of `R` are a canonical encoding and decompress to a point;
//! 3. `R` is not of small order (and `A` is not, which [`PublicKey`] guarantees);
//! 4. `[8]([s]B - [k]A - R) = 0`, the cofactored equation.
//!
//! A batch of items passes when `[8](Σ z_i (s_i B - k_i A_i - R_i)) = 0` for independent
//! random 128-bit `z_i`, which is one multiscalar multiplication. The cofactored batch
//! equation passes for every batch of items that each pass check 4, and fails, except with
//! probability at most 2^-128, for a batch holding an item that does not: the bracket of a
//! failing item is then a point of prime order after the cofactor is cleared.

use std::sync::LazyLock;

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint, VartimeEdwardsPrecomputation};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimePrecomputedMultiscalarMul};
use sha2::{Digest, Sha512};

use super::{PublicKey, Signature, SignatureInvalid};

/// A signature whose encoding passed checks 1 to 3, ready for the equation.
#[derive(Clone, Copy)]
pub(crate) struct Decoded {
    r_bytes: [u8; 32],
    r: EdwardsPoint,
    s: Scalar,
    a_bytes: [u8; 32],
    a: EdwardsPoint,
}

/// One instance of the equation: a decoded signature bound to one message.
#[derive(Clone, Copy)]
pub(crate) struct Term {
    r: EdwardsPoint,
    s: Scalar,
    a_bytes: [u8; 32],
    a: EdwardsPoint,
    k: Scalar,
}

/// True if the 255-bit y-coordinate in `bytes` is at least p = 2^255 - 19.
fn y_is_non_canonical(bytes: &[u8; 32]) -> bool {
    // p = ed ff ff .. ff 7f in little-endian. y >= p only for p..p+18, whose top byte
    // (sign bit masked) is 0x7f and middle bytes all 0xff.
    bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed
}

/// The y-coordinates (sign bit cleared) of the eight points of small order.
///
/// A point has small order exactly when its y-coordinate is one of these: the
/// torsion group is closed under negation, and negation keeps y. So for an
/// encoding whose y is canonical and which decompresses, comparing its y with
/// this list is `is_small_order()` without the three doublings and the projective
/// comparison (about a sixth of an `R`'s cost before the equation).
static SMALL_ORDER_Y: LazyLock<[[u8; 32]; 8]> = LazyLock::new(|| {
    EIGHT_TORSION.map(|point| {
        let mut y = point.compress().to_bytes();
        y[31] &= 0x7f;
        y
    })
});

/// Whether the point `bytes` encodes (canonical y, known to decompress) has small order.
fn has_small_order_y(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

impl Decoded {
    /// Checks 1 to 3 for `signature` under `key`. Independent of the message.
    pub(crate) fn new(key: &PublicKey, signature: &Signature) -> Result<Self, SignatureInvalid> {
        let bytes = signature.to_bytes();
        let mut r_bytes = [0u8; 32];
        let mut s_bytes = [0u8; 32];
        r_bytes.copy_from_slice(&bytes[..32]);
        s_bytes.copy_from_slice(&bytes[32..]);

        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
            .ok_or(SignatureInvalid::NonCanonicalScalar)?;
        if y_is_non_canonical(&r_bytes) {
            return Err(SignatureInvalid::NonCanonicalR);
        }
        let r = CompressedEdwardsY(r_bytes)
            .decompress()
            .ok_or(SignatureInvalid::InvalidR)?;
        // The encodings with x = 0 and the sign bit set (the only other non-canonical
        // ones) are the identity and the point of order 2: caught here.
        if has_small_order_y(&r_bytes) {
            return Err(SignatureInvalid::SmallOrderR);
        }
        let dalek = key.as_dalek();
        Ok(Self {
            r_bytes,
            r,
            s,
            // The key is hashed as the bytes it was parsed from, as `verify_strict` does.
            a_bytes: *dalek.as_bytes(),
            a: dalek.to_edwards(),
        })
    }

    /// Binds the signature to `message`: computes `k = SHA-512(R || A || M) mod L`.
    pub(crate) fn term(&self, message: &[u8]) -> Term {
        let digest = Sha512::new()
            .chain_update(self.r_bytes)
            .chain_update(self.a_bytes)
            .chain_update(message)
            .finalize();
        let mut wide = [0u8; 64];
        wide.copy_from_slice(&digest);
        Term {
            r: self.r,
            s: self.s,
            a_bytes: self.a_bytes,
            a: self.a,
            k: Scalar::from_bytes_mod_order_wide(&wide),
        }
    }
}

impl Term {
    /// `verify_strict`'s own equation, cofactorless: `[s]B - [k]A = R`.
    ///
    /// Together with checks 1 to 3 this is exactly ed25519-dalek's `verify_strict`, one
    /// field exponentiation cheaper. `verify_strict` decompresses `R`, then compares the
    /// *compressed* `[s]B - [k]A` with the bytes of `R`; compression costs an inversion.
    /// Here `R` was decompressed once (check 2) and the points are compared in projective
    /// coordinates. The two agree: compression is injective and its output canonical, so
    /// the bytes match exactly when `R` is a canonical encoding (check 2) of the same point.
    pub(crate) fn holds_strictly(&self) -> bool {
        crate::crypto::count_checks(1);
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&self.k, &-self.a, &self.s) == self.r
    }

    /// Check 4 for this item alone: `[8]([s]B - [k]A - R) = 0`.
    pub(crate) fn holds(&self) -> bool {
        crate::crypto::count_checks(1);
        let sb_minus_ka =
            EdwardsPoint::vartime_double_scalar_mul_basepoint(&self.k, &-self.a, &self.s);
        (sb_minus_ka - self.r).mul_by_cofactor().is_identity()
    }
}

/// Whether every term passes check 4, decided with one multiscalar multiplication.
///
/// `true` means all terms hold (up to a false-accept probability of at most 2^-128); `false`
/// means at least one does not. A lone term, or a failing random source, is decided
/// term by term, which is exact.
pub(crate) fn all_hold(terms: &[Term]) -> bool {
    match terms {
        [] => true,
        [one] => one.holds(),
        _ => match random_weights(terms.len()) {
            Some(z) => combined_holds(terms, &z),
            None => terms.iter().all(Term::holds),
        },
    }
}

/// The basepoint's wide (width-8) table for the batch equation, built once. `B`'s
/// coefficient is a full-size scalar in every batch; with its table precomputed,
/// `B` costs about half the additions of a point whose table each call builds.
static BASEPOINT_TABLE: LazyLock<VartimeEdwardsPrecomputation> =
    LazyLock::new(|| VartimeEdwardsPrecomputation::new([ED25519_BASEPOINT_POINT]));

/// `[8](Σ z_i (s_i B - k_i A_i - R_i)) = 0`, as one MSM over at most `1 + 2n` points.
///
/// Terms signed by the same key share one `A` point, whose coefficient is the sum of
/// theirs: the same equation, one full-size scalar multiplication fewer per repeat.
/// That is the common case for PoPs: a sidecar's agent signs every PoP with one key
/// (the saving is in the README's Performance section, `decision_cost batch_one_key:N`).
fn combined_holds(terms: &[Term], z: &[Scalar]) -> bool {
    crate::crypto::count_checks(terms.len());
    let mut b_coefficient = Scalar::ZERO;
    let mut keys: Vec<([u8; 32], EdwardsPoint, Scalar)> = Vec::with_capacity(terms.len());
    let mut scalars = Vec::with_capacity(2 * terms.len());
    let mut points = Vec::with_capacity(2 * terms.len());
    for (term, z) in terms.iter().zip(z) {
        b_coefficient += z * term.s;
        let a_coefficient = -(z * term.k);
        // Equal bytes are the same point: both were decompressed from them.
        match keys.iter_mut().find(|(bytes, _, _)| *bytes == term.a_bytes) {
            Some((_, _, sum)) => *sum += a_coefficient,
            None => keys.push((term.a_bytes, term.a, a_coefficient)),
        }
        scalars.push(-z);
        points.push(term.r);
    }
    for (_, a, coefficient) in keys {
        scalars.push(coefficient);
        points.push(a);
    }
    BASEPOINT_TABLE
        .vartime_mixed_multiscalar_mul([b_coefficient], &scalars, &points)
        .mul_by_cofactor()
        .is_identity()
}

/// `n` independent uniform 128-bit weights from the operating system's CSPRNG, or `None`
/// if it fails (callers then verify item by item rather than with predictable weights).
fn random_weights(n: usize) -> Option<Vec<Scalar>> {
    let mut bytes = vec![0u8; 16 * n];
    getrandom::fill(&mut bytes).ok()?;
    Some(
        bytes
            .chunks_exact(16)
            .map(|chunk| {
                let mut wide = [0u8; 32];
                wide[..16].copy_from_slice(chunk);
                Scalar::from_bytes_mod_order(wide)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_y_boundary() {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(y_is_non_canonical(&p));
        let mut below = p;
        below[0] = 0xec;
        assert!(!y_is_non_canonical(&below));
        let mut top = [0xffu8; 32];
        top[31] = 0x7f;
        assert!(y_is_non_canonical(&top));
        top[31] = 0xff; // sign bit does not matter
        assert!(y_is_non_canonical(&top));
        let mut small = [0u8; 32];
        small[0] = 0xff;
        assert!(!y_is_non_canonical(&small));
    }

    #[test]
    fn small_order_y_list_is_exactly_the_small_order_points() {
        let base = ED25519_BASEPOINT_POINT;
        for (index, torsion) in EIGHT_TORSION.iter().enumerate() {
            for sign in [0u8, 0x80] {
                let mut bytes = torsion.compress().to_bytes();
                bytes[31] = (bytes[31] & 0x7f) | sign;
                if let Some(point) = CompressedEdwardsY(bytes).decompress() {
                    assert!(point.is_small_order());
                    assert!(has_small_order_y(&bytes), "torsion point {index}");
                }
            }
            // A prime-order point moved by each torsion point is not of small order.
            for k in [1u64, 2, 3, 1000, u64::MAX] {
                let point = base * Scalar::from(k) + torsion;
                assert!(!point.is_small_order());
                assert!(
                    !has_small_order_y(&point.compress().to_bytes()),
                    "{k}, {index}"
                );
            }
        }
    }

    #[test]
    fn weights_are_128_bit_and_distinct() {
        let z = random_weights(4).unwrap();
        for w in &z {
            assert_eq!(&w.as_bytes()[16..], &[0u8; 16]);
        }
        assert_ne!(z[0], z[1]);
    }
}
