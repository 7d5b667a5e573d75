//! The control plane's caps and refusals as a workload meets them: a TTL asked
//! above the policy's cap is cut to the cap (read from the issued warrant's own
//! `issued_at`/`expires_at`), an unknown or tampered credential is 401, a
//! workload without a policy is 403; and the capped warrant works.

use anyhow::{Context, Result};
use tenuo_authz::constraint::ArgValue;
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::decode_token;

use super::{now, Ctx, Outcome};
use crate::fixture::{NO_POLICY, READER, READER_TTL_SECS};
use crate::http::request;
use crate::target::Target;

/// What a workload may ask for and what it gets.
pub(crate) fn policy(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let mut o = Outcome::default();
    let key = SigningKey::generate()?;
    let holder = key.public_key();
    let token = target.workload_token(READER)?;

    // The guide's TTLs are short on purpose: asking for an hour gets the cap.
    let issued = ctx.cp.warrant(&token, &holder, Some(3600))?;
    let (_, chain) = decode_token(&issued.warrant).context("decoding the issued warrant")?;
    let w = chain.last().context("empty chain")?;
    let p = w.payload();
    let lifetime = p.expires_at.saturating_sub(p.issued_at);
    o.check(lifetime == READER_TTL_SECS, || {
        format!(
            "asked for 3600 s: the warrant lives {lifetime} s (issued_at {}, expires_at {}), \
             want the policy cap {READER_TTL_SECS} s",
            p.issued_at, p.expires_at
        )
    });
    o.check(issued.ttl_secs == READER_TTL_SECS, || {
        format!("the reply says ttl_secs {}", issued.ttl_secs)
    });
    o.check(w.holder() == &holder, || {
        "the warrant names another holder".into()
    });

    // The capped warrant is a working one.
    let args = Args::from([("path".to_owned(), ArgValue::String("/data/cap".into()))]);
    let pop = sign_pop(&key, w.id(), "read_file", &args, now() as i64).to_base64url();
    let reply = request(
        target.authorizer(),
        "GET",
        "/files/read?path=/data/cap",
        &[("x-tenuo-warrant", &issued.warrant), ("x-tenuo-pop", &pop)],
        "",
    )?;
    o.requests += 1;
    o.check(reply.status == 200, || {
        format!("the capped warrant: {} {}", reply.status, reply.body)
    });

    // Credentials the control plane must not accept: made up, and a real one
    // with its signature changed (a bad signature for a TokenReview).
    let tampered = tampered(&token);
    for (what, bad) in [
        ("an unknown token", "not-a-token"),
        ("a tampered token", &tampered),
    ] {
        let r = ctx.cp.warrant_reply(bad, &holder, None)?;
        o.check(r.status == 401, || {
            format!("{what}: {} {} (want 401)", r.status, r.body)
        });
    }

    // Authenticated, but no policy names it.
    let stranger = target.workload_token(NO_POLICY)?;
    let r = ctx.cp.warrant_reply(&stranger, &holder, None)?;
    o.check(r.status == 403, || {
        format!(
            "{NO_POLICY} (no policy): {} {} (want 403)",
            r.status, r.body
        )
    });
    Ok(o)
}

/// The base64url alphabet, in order.
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `token` with the first character of its last segment (a JWT's signature;
/// all of an offline token) moved 32 places in the base64url alphabet: that
/// character's six bits all belong to the signature's first byte, and the
/// move flips its top bit, so the decoded bytes differ under any decoder. The
/// last character would not do: it carries only some data bits, and a lenient
/// decoder reads two neighbours as the same bytes (kind's RS256 tokens).
fn tampered(token: &str) -> String {
    let at = token.rfind('.').map_or(0, |dot| dot + 1);
    let mut bytes = token.as_bytes().to_vec();
    if let Some(c) = bytes.get_mut(at) {
        *c = match BASE64URL.iter().position(|a| a == c) {
            Some(i) => BASE64URL[(i + 32) % 64],
            // Not base64url: any letter of it is a change.
            None => b'A',
        };
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use tenuo_authz::wire::encode_base64url;

    use super::tampered;

    #[test]
    fn tampering_flips_the_top_bit_of_the_signatures_first_byte() {
        // Every first byte, in an RS256-sized signature.
        for first in 0..=255u8 {
            let mut sig = vec![0x5a; 256];
            sig[0] = first;
            let token = format!("eyJh.eyJp.{}", encode_base64url(&sig));
            sig[0] ^= 0x80;
            assert_eq!(
                tampered(&token),
                format!("eyJh.eyJp.{}", encode_base64url(&sig))
            );
        }
    }

    #[test]
    fn a_token_without_segments_changes_too() {
        assert_eq!(tampered("tok-0-abc"), "Nok-0-abc");
        assert_eq!(tampered("*x"), "Ax");
    }
}
