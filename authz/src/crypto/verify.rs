//! Synchronous entry points: one signature, a set of independent signatures, a chain.

use super::equation::{all_hold, Decoded, Term};
use super::{ChainSignatureError, PublicKey, Signature, SignatureCriterion, SignatureInvalid};

/// One signature to verify: the signer's key, the signed message and the signature.
pub type Item<'a> = (&'a PublicKey, &'a [u8], &'a Signature);

/// Verifies one signature with the criterion every batched verdict uses.
///
/// This agrees with [`PublicKey::verify_strict`] on every input except a signature whose
/// `R` (or key) carries a small-order component, which only the key's holder can make:
/// see the module's compatibility note.
pub fn verify_one(
    key: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureInvalid> {
    if Decoded::new(key, signature)?.term(message).holds() {
        Ok(())
    } else {
        Err(SignatureInvalid::Equation)
    }
}

/// [`verify_one`] for a signature that is valid if it verifies any of `candidates`
/// (a PoP's accepted time windows): the verdict a `PopBatch` (`crate::batch`) gives
/// the same item, reached without a batch.
pub fn verify_one_of<M: AsRef<[u8]>>(
    key: &PublicKey,
    candidates: &[M],
    signature: &Signature,
) -> Result<(), SignatureInvalid> {
    let decoded = Decoded::new(key, signature)?;
    if candidates.is_empty() {
        return Err(SignatureInvalid::NoMessage);
    }
    if candidates
        .iter()
        .any(|message| decoded.term(message.as_ref()).holds())
    {
        Ok(())
    } else {
        Err(SignatureInvalid::Equation)
    }
}

/// Verifies independent signatures together and returns one verdict per item, in order.
///
/// Each verdict is the one [`verify_one`] gives for that item alone: one multiscalar
/// multiplication decides the whole set when every item is valid, and if it fails each
/// item is decided on its own, so neighbours never change an item's verdict.
pub fn verify_each(items: &[Item<'_>]) -> Vec<Result<(), SignatureInvalid>> {
    let requests: Vec<Request<'_, &[u8]>> = items
        .iter()
        .map(|(key, message, signature)| Request {
            key,
            signature,
            candidates: std::slice::from_ref(message),
        })
        .collect();
    decide(&requests)
}

/// Verifies every signature of a chain, in one batch when all are valid.
///
/// On failure, reports the first item (in the order given) that [`verify_one`] refuses.
pub fn verify_all(items: &[Item<'_>]) -> Result<(), ChainSignatureError> {
    verify_all_with(items, SignatureCriterion::Cofactored)
}

/// [`verify_all`] under `criterion`. With [`SignatureCriterion::Strict`] each signature
/// is verified by itself with `verify_strict`'s equation, so the verdict and the index
/// reported are exactly what verifying the items one by one with `verify_strict` gives.
pub fn verify_all_with(
    items: &[Item<'_>],
    criterion: SignatureCriterion,
) -> Result<(), ChainSignatureError> {
    match criterion {
        SignatureCriterion::Cofactored => verify_all_batched(items),
        SignatureCriterion::Strict => verify_all_strictly(items),
    }
}

fn verify_all_strictly(items: &[Item<'_>]) -> Result<(), ChainSignatureError> {
    for (index, (key, message, signature)) in items.iter().enumerate() {
        let decoded =
            Decoded::new(key, signature).map_err(|reason| ChainSignatureError { index, reason })?;
        if !decoded.term(message).holds_strictly() {
            return Err(ChainSignatureError {
                index,
                reason: SignatureInvalid::Equation,
            });
        }
    }
    Ok(())
}

fn verify_all_batched(items: &[Item<'_>]) -> Result<(), ChainSignatureError> {
    let mut terms = Vec::with_capacity(items.len());
    let mut first_malformed = None;
    for (index, (key, message, signature)) in items.iter().enumerate() {
        match Decoded::new(key, signature) {
            Ok(decoded) => terms.push(decoded.term(message)),
            Err(reason) => {
                first_malformed = Some(ChainSignatureError { index, reason });
                break;
            }
        }
    }
    if first_malformed.is_none() && all_hold(&terms) {
        return Ok(());
    }
    // Terms were built in order up to the first malformed item: the first failure is
    // either a term before it or that item.
    if let Some(index) = terms.iter().position(|term| !term.holds()) {
        return Err(ChainSignatureError {
            index,
            reason: SignatureInvalid::Equation,
        });
    }
    first_malformed.map_or(Ok(()), Err)
}

/// A signature with one or more candidate messages; it is valid if any candidate verifies.
pub(crate) struct Request<'a, C> {
    pub(crate) key: &'a PublicKey,
    pub(crate) signature: &'a Signature,
    pub(crate) candidates: &'a [C],
}

/// Decides each request by itself. The first candidates of all well-formed requests are
/// checked in one batch; if that fails, or for the other candidates, item by item.
pub(crate) fn decide<C: AsRef<[u8]>>(
    requests: &[Request<'_, C>],
) -> Vec<Result<(), SignatureInvalid>> {
    let prepared: Vec<Result<(Decoded, Term), SignatureInvalid>> = requests
        .iter()
        .map(|request| {
            let decoded = Decoded::new(request.key, request.signature)?;
            let first = request
                .candidates
                .first()
                .ok_or(SignatureInvalid::NoMessage)?;
            Ok((decoded, decoded.term(first.as_ref())))
        })
        .collect();
    let terms: Vec<Term> = prepared.iter().flatten().map(|(_, term)| *term).collect();
    let batch_holds = all_hold(&terms);
    prepared
        .iter()
        .zip(requests)
        .map(|(prepared, request)| {
            let (decoded, first) = prepared.as_ref().map_err(|reason| *reason)?;
            let valid = batch_holds
                || first.holds()
                || request
                    .candidates
                    .iter()
                    .skip(1)
                    .any(|message| decoded.term(message.as_ref()).holds());
            if valid {
                Ok(())
            } else {
                Err(SignatureInvalid::Equation)
            }
        })
        .collect()
}
