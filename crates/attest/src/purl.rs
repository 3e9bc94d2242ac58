//! Package URLs (purl-spec) for distribution packages and for images, written with the
//! `packageurl` crate: `pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12`,
//! `pkg:docker/team/app@1.2?platform=linux%2Famd64` as BuildKit writes image references.

use crate::os::OsRelease;
use packageurl::PackageUrl;

/// One package's coordinates, as its database records them.
pub(crate) struct Coordinates<'a> {
    /// `deb`, `apk` or `rpm`.
    pub ty: &'static str,
    /// The namespace when the root has no os-release (`debian`, `alpine`, an rpm vendor).
    pub default_namespace: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub arch: Option<&'a str>,
    pub epoch: Option<&'a str>,
    pub upstream: Option<&'a str>,
}

/// The package's purl; `None` when a part is not a valid purl component (an empty name).
pub(crate) fn package(c: &Coordinates, os: Option<&OsRelease>) -> Option<String> {
    let mut p = PackageUrl::new(c.ty, c.name).ok()?;
    let namespace = os.map(|o| o.id.as_str()).unwrap_or(c.default_namespace);
    if !namespace.is_empty() {
        p.with_namespace(namespace.to_ascii_lowercase()).ok()?;
    }
    if !c.version.is_empty() {
        p.with_version(c.version).ok()?;
    }
    let mut qualifiers = vec![];
    if let Some(a) = c.arch.filter(|a| !a.is_empty()) {
        qualifiers.push(("arch", a.to_string()));
    }
    if let Some(e) = c.epoch.filter(|e| !e.is_empty()) {
        qualifiers.push(("epoch", e.to_string()));
    }
    if let Some(o) = os {
        qualifiers.push(("distro", o.distro()));
    }
    if let Some(u) = c.upstream.filter(|u| !u.is_empty() && *u != c.name) {
        qualifiers.push(("upstream", u.to_string()));
    }
    for (k, v) in qualifiers {
        p.add_qualifier(k, v).ok()?;
    }
    Some(p.to_string())
}

/// An image as a provenance names it: `registry` and `repository` as resolved
/// (`index.docker.io`, `library/busybox`), the tag and digest (`sha256:…`) when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageName {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// BuildKit's purl of an image (`purl.RefToPURL`): `pkg:docker/<familiar name>@<tag>`, with
/// `digest` and `platform` qualifiers; Docker Hub's registry and `library/` are left out.
pub fn image(name: &ImageName, platform: Option<&str>) -> String {
    let hub = matches!(
        name.registry.as_str(),
        "index.docker.io" | "docker.io" | "registry-1.docker.io"
    );
    let familiar = if hub {
        name.repository
            .strip_prefix("library/")
            .filter(|r| !r.contains('/'))
            .unwrap_or(&name.repository)
            .to_string()
    } else {
        format!("{}/{}", name.registry, name.repository)
    };
    let (namespace, last) = match familiar.rsplit_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, familiar.as_str()),
    };
    let tag = match (&name.tag, &name.digest) {
        (Some(t), _) => Some(t.as_str()),
        (None, None) => Some("latest"),
        (None, Some(_)) => None,
    };
    let mut out = String::from("pkg:docker/");
    if let Some(ns) = namespace {
        out.push_str(&escape(ns, true));
        out.push('/');
    }
    out.push_str(&escape(last, false));
    if let Some(t) = tag {
        out.push('@');
        out.push_str(&escape(t, false));
    }
    let mut q = vec![];
    if let Some(d) = &name.digest {
        q.push(format!("digest={}", escape(d, false)));
    }
    if let Some(p) = platform {
        q.push(format!("platform={}", escape(p, false)));
    }
    if !q.is_empty() {
        out.push('?');
        out.push_str(&q.join("&"));
    }
    out
}

/// Percent-encoding as Go's `url.PathEscape` does (what BuildKit's purl library uses):
/// unreserved characters and `:@&=+$` stay; `/` stays between namespace segments only.
fn escape(s: &str, keep_slash: bool) -> String {
    percent_encode(s.as_bytes(), |b| {
        b"-._~:@&=+$".contains(&b) || (keep_slash && b == b'/')
    })
}

/// `bytes` with every byte but ASCII letters, digits and those `keep` accepts written as
/// `%XX`.
pub(crate) fn percent_encode(bytes: &[u8], keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(r: &str, repo: &str, tag: Option<&str>, digest: Option<&str>) -> ImageName {
        ImageName {
            registry: r.into(),
            repository: repo.into(),
            tag: tag.map(Into::into),
            digest: digest.map(Into::into),
        }
    }

    #[test]
    fn images_as_buildkit_names_them() {
        // BuildKit's dockerfile_provenance_test: pkg:docker/busybox@latest?platform=linux%2Famd64
        assert_eq!(
            image(
                &img("index.docker.io", "library/busybox", Some("latest"), None),
                Some("linux/amd64")
            ),
            "pkg:docker/busybox@latest?platform=linux%2Famd64"
        );
        assert_eq!(
            image(
                &img(
                    "localhost:5000",
                    "team/app",
                    Some("1.2"),
                    Some("sha256:abc")
                ),
                None
            ),
            "pkg:docker/localhost:5000/team/app@1.2?digest=sha256:abc"
        );
        assert_eq!(
            image(
                &img("index.docker.io", "bitnami/redis", None, Some("sha256:ab")),
                None
            ),
            "pkg:docker/bitnami/redis?digest=sha256:ab"
        );
    }

    #[test]
    fn debian_package() {
        let os = crate::os::parse("ID=debian\nVERSION_ID=12\n");
        let c = Coordinates {
            ty: "deb",
            default_namespace: "debian",
            name: "libc6",
            version: "2.36-9+deb12u4",
            arch: Some("amd64"),
            epoch: None,
            upstream: Some("glibc"),
        };
        assert_eq!(
            package(&c, os.as_ref()).unwrap(),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
        );
    }
}
