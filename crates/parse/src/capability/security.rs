//! `rest.security`: services, CORS and the SMART `oauth-uris` extension.

use super::cx::{shown, Cx, Obj};
use super::Budget;
use crate::collect::{Pushed, UniqueList};
use fhirforge_model::Security;

/// The SMART extension holding the OAuth endpoints in `rest.security`.
pub(crate) const OAUTH_URIS: &str =
    "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

/// Whether `s` is an absolute `http` or `https` URL, written without whitespace, control
/// characters, quotes or backslashes (the URL parser would silently strip or fix those, and the
/// text is kept as written).
pub(crate) fn valid_endpoint(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '<' | '>' | '`'))
        && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// Reads one `rest.security`. Services go to `services`, which lives across every `rest` entry.
pub(crate) fn read_security(
    cx: &mut Cx,
    sec: &Obj,
    ptr: &str,
    security: &mut Security,
    services: &mut UniqueList<String>,
    budget: &mut Budget,
) {
    if let Some(cors) = cx.bool(sec, "cors", ptr) {
        security.cors = Some(security.cors.unwrap_or(false) || cors);
    }
    if let Some(d) = cx.str(sec, "description", ptr) {
        security.description.get_or_insert_with(|| d.to_owned());
    }
    for (i, svc) in cx.array(sec, "service", ptr).iter().enumerate() {
        if !budget.take(|| format!("{ptr}/service/{i}")) {
            continue;
        }
        let sptr = format!("{ptr}/service/{i}");
        let Some(svc) = cx.object(svc, &sptr) else {
            continue;
        };
        let mut code = None;
        for (j, coding) in cx.array(svc, "coding", &sptr).iter().enumerate() {
            let cptr = format!("{sptr}/coding/{j}");
            if let Some(c) = cx
                .object(coding, &cptr)
                .and_then(|c| cx.str(c, "code", &cptr))
            {
                code = Some(c.to_owned());
                break;
            }
        }
        let code = code.or_else(|| cx.str(svc, "text", &sptr).map(str::to_owned));
        match code.map(|c| (services.push(c.clone()), c)) {
            Some((Pushed::Added, _)) => {}
            Some((Pushed::Duplicate, c)) => {
                cx.warn_with(|| {
                    (
                        sptr,
                        format!("duplicate security service {} merged", shown(&c)),
                    )
                });
            }
            Some((Pushed::Full, _)) => {
                cx.warn_with(|| (sptr, "too many security services; skipped".to_owned()));
            }
            None => cx.warn(&sptr, "security service without a code or text; skipped"),
        }
    }

    // The SMART oauth-uris extension. athenahealth declares it twice, once under a malformed
    // URL: exact-URL extensions win; a near miss is used only when no exact one exists.
    let mut exact = Vec::new();
    let mut near = Vec::new();
    for (i, ext) in cx.array(sec, "extension", ptr).iter().enumerate() {
        let eptr = format!("{ptr}/extension/{i}");
        let Some(ext) = cx.object(ext, &eptr) else {
            continue;
        };
        match cx.str(ext, "url", &eptr) {
            Some(OAUTH_URIS) => exact.push((ext, eptr)),
            Some(u) if u.ends_with("/oauth-uris") => near.push((ext, eptr, u.to_owned())),
            _ => {}
        }
    }
    if exact.len() > 1 {
        cx.warn(&exact[1].1, "oauth-uris extension declared more than once; merged, the first value of each endpoint kept");
    }
    for (_, eptr, url) in &near {
        if exact.is_empty() {
            cx.warn(
                format!("{eptr}/url"),
                format!("oauth-uris extension under the malformed URL {}; used since no valid one exists", shown(url)),
            );
        } else {
            cx.warn(
                format!("{eptr}/url"),
                format!("oauth-uris extension under the malformed URL {}; ignored, the valid one is used", shown(url)),
            );
        }
    }
    let chosen: Vec<(&Obj, String)> = if exact.is_empty() {
        near.into_iter().map(|(e, p, _)| (e, p)).collect()
    } else {
        exact
    };
    for (ext, eptr) in chosen {
        read_oauth_uris(cx, ext, &eptr, security);
    }
}

fn read_oauth_uris(cx: &mut Cx, ext: &Obj, ptr: &str, security: &mut Security) {
    for (i, sub) in cx.array(ext, "extension", ptr).iter().enumerate() {
        let sptr = format!("{ptr}/extension/{i}");
        let Some(sub) = cx.object(sub, &sptr) else {
            continue;
        };
        let Some(kind) = cx.str(sub, "url", &sptr) else {
            continue;
        };
        let value_key = if sub.contains_key("valueUri") {
            "valueUri"
        } else {
            "valueUrl"
        };
        let Some(value) = cx.str(sub, value_key, &sptr) else {
            cx.warn(
                &sptr,
                format!("oauth-uris {} without a valueUri; skipped", shown(kind)),
            );
            continue;
        };
        if !valid_endpoint(value) {
            cx.warn(
                format!("{sptr}/{value_key}"),
                format!(
                    "oauth-uris {} is not an absolute http(s) URL; skipped",
                    shown(kind)
                ),
            );
            continue;
        }
        let slot = match kind {
            "token" => &mut security.oauth.token,
            "authorize" => &mut security.oauth.authorize,
            "revoke" => &mut security.oauth.revoke,
            "introspect" => &mut security.oauth.introspect,
            "register" => &mut security.oauth.register,
            "manage" => &mut security.oauth.manage,
            other => {
                cx.warn(
                    format!("{sptr}/url"),
                    format!("unknown oauth-uris endpoint {}; skipped", shown(other)),
                );
                continue;
            }
        };
        match slot {
            Some(existing) if existing != value => cx.warn(
                &sptr,
                format!("second, different {kind} endpoint; the first is kept"),
            ),
            Some(_) => {}
            None => *slot = Some(value.to_owned()),
        }
    }
}
