//! `--sbom`, `--provenance` and `--attest` in buildx's shape: `--sbom[=true|false]`,
//! `--provenance[=true|false|mode=min|max[,version=v0.2|v1]]`, and the long form
//! `--attest type=sbom|provenance[,mode=…][,version=…][,disabled=true]` (repeatable). Nothing
//! is attached unless asked. The shorthands are read after `--attest`, so they win.

use super::flags::BuildFlags;
use super::options::{AttestationKind, Attestations, ProvenanceRequest};
use super::resolve_flag::{choose, invalid};
use super::values::parse_bool;
use super::CliError;
use attest::provenance::{Mode, SlsaVersion};

/// The attestation flags of a build.
pub(super) fn from_flags(f: &BuildFlags) -> Result<Attestations, CliError> {
    resolve(&f.attest, f.sbom.as_deref(), f.provenance.as_deref())
}

fn resolve(
    attest: &[String],
    sbom: Option<&str>,
    provenance: Option<&str>,
) -> Result<Attestations, CliError> {
    let mut out = Attestations::default();
    for a in attest.iter().filter(|a| !a.is_empty()) {
        apply(&mut out, "attest", a, None)?;
    }
    if let Some(v) = sbom {
        apply(&mut out, "sbom", v, Some("sbom"))?;
    }
    if let Some(v) = provenance {
        apply(&mut out, "provenance", v, Some("provenance"))?;
    }
    Ok(out)
}

/// One flag value: a boolean (shorthands only) or `key=value` pairs.
fn apply(
    out: &mut Attestations,
    flag: &'static str,
    value: &str,
    shorthand: Option<&str>,
) -> Result<(), CliError> {
    let bad = |why: &str| invalid(flag, value, why);
    let mut ty = shorthand.map(str::to_string);
    let mut enabled = true;
    let mut req = ProvenanceRequest::default();
    if shorthand.is_some() {
        if let Ok(b) = parse_bool(value) {
            set(out, shorthand.unwrap_or_default(), b, req);
            return Ok(());
        }
    }
    for pair in value.split(',') {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(bad("want true, false or key=value pairs"));
        };
        match k.trim() {
            "type" if shorthand.is_none() => ty = Some(v.to_string()),
            "disabled" => enabled = !parse_bool(v).map_err(|e| bad(&e))?,
            "mode" => {
                req.mode = match v {
                    "min" => Mode::Min,
                    "max" => Mode::Max,
                    _ => return Err(bad("mode must be min or max")),
                }
            }
            "version" => {
                req.version = match v {
                    "v0.2" => SlsaVersion::V02,
                    "v1" => SlsaVersion::V1,
                    _ => return Err(bad("version must be v0.2 or v1")),
                }
            }
            other => return Err(bad(&format!("unknown key {other:?}"))),
        }
    }
    let ty = ty.ok_or_else(|| bad("want type=sbom or type=provenance"))?;
    let is_provenance_key = value.contains("mode=") || value.contains("version=");
    match ty.as_str() {
        "sbom" if is_provenance_key => Err(bad("mode and version are provenance keys")),
        "sbom" | "provenance" => {
            set(out, &ty, enabled, req);
            Ok(())
        }
        _ => Err(bad("type must be sbom or provenance")),
    }
}

fn set(out: &mut Attestations, ty: &str, enabled: bool, req: ProvenanceRequest) {
    if ty == "sbom" {
        out.sbom = enabled;
    } else {
        out.provenance = enabled.then_some(req);
    }
}

pub(super) fn kind(v: Option<&str>) -> Result<Option<AttestationKind>, CliError> {
    match v {
        None | Some("") => Ok(None),
        Some(v) => choose(
            "type",
            v,
            &[
                ("sbom", AttestationKind::Sbom),
                ("provenance", AttestationKind::Provenance),
            ],
        )
        .map(Some),
    }
}

/// `executor attestations --platform os/arch[/variant]`.
pub(super) fn platform(v: Option<&str>) -> Result<Option<image::Platform>, CliError> {
    match v {
        None | Some("") => Ok(None),
        Some(v) => image::Platform::parse(v)
            .map(Some)
            .ok_or_else(|| invalid("platform", v, "expected os/arch[/variant]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(attest: &[&str], sbom: Option<&str>, prov: Option<&str>) -> Attestations {
        let attest: Vec<String> = attest.iter().map(|s| s.to_string()).collect();
        resolve(&attest, sbom, prov).unwrap()
    }

    fn err(attest: &[&str], sbom: Option<&str>, prov: Option<&str>) -> String {
        let attest: Vec<String> = attest.iter().map(|s| s.to_string()).collect();
        resolve(&attest, sbom, prov).unwrap_err().to_string()
    }

    #[test]
    fn shorthands_and_long_form() {
        assert!(!ok(&[], None, None).any());
        assert!(ok(&[], Some("true"), None).sbom);
        assert!(!ok(&["type=sbom"], Some("false"), None).sbom);
        let p = ok(&[], None, Some("true")).provenance.unwrap();
        assert_eq!((p.mode, p.version), (Mode::Min, SlsaVersion::V02));
        let p = ok(&[], None, Some("mode=max")).provenance.unwrap();
        assert_eq!(p.mode, Mode::Max);
        assert!(ok(&["type=provenance"], None, Some("false"))
            .provenance
            .is_none());
        let a = ok(
            &["type=sbom", "type=provenance,mode=max,version=v1"],
            None,
            None,
        );
        assert!(a.sbom);
        assert_eq!(
            a.provenance,
            Some(ProvenanceRequest {
                mode: Mode::Max,
                version: SlsaVersion::V1
            })
        );
        assert!(!ok(&["type=sbom", "type=sbom,disabled=true"], None, None).sbom);
    }

    #[test]
    fn bad_values_name_the_flag() {
        assert!(err(&["type=spdx"], None, None).contains("--attest"));
        assert!(err(&["mode=max"], None, None).contains("want type="));
        assert!(err(&[], Some("yes"), None).contains("--sbom"));
        assert!(err(&[], None, Some("mode=all")).contains("--provenance"));
        assert!(err(&[], None, Some("version=v2")).contains("v0.2 or v1"));
        assert!(err(&["type=sbom,generator=x"], None, None).contains("unknown key"));
        assert!(err(&["type=sbom,mode=max"], None, None).contains("provenance keys"));
    }

    #[test]
    fn read_platform_is_os_arch_variant() {
        let p = platform(Some("linux/arm64/v8")).unwrap().unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(platform(None).unwrap(), None);
        let e = platform(Some("arm64")).unwrap_err().to_string();
        assert!(e.contains("--platform") && e.contains("os/arch"), "{e}");
    }
}
