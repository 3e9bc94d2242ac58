//! Image references as Docker writes them: `busybox` is
//! `index.docker.io/library/busybox:latest`; a first component with a dot, a colon or
//! `localhost` is a registry.

use crate::Error;
use image::Digest;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

pub const DOCKER_HUB: &str = "index.docker.io";

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why| Error::Reference(s.to_string(), why);
        if s.is_empty() {
            return Err(bad("empty"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.parse::<Digest>().map_err(|_| bad("bad digest"))?)),
            None => (s, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => {
                (&rest[..i], Some(rest[i + 1..].to_string()))
            }
            _ => (rest, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err(bad("bad tag"));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let registry = if registry == "docker.io" || registry == "registry-1.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let valid_component = |c: &str| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
                && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
                && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
        };
        if !repository.split('/').all(valid_component) {
            return Err(bad(
                "repository names must be lowercase letters, digits and separators",
            ));
        }
        let port_ok = match registry.rsplit_once(':') {
            Some((host, port)) => {
                !host.contains(':') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
            }
            None => true,
        };
        if registry.is_empty()
            || !port_ok
            || registry.contains(|c: char| c.is_whitespace() || c == '/')
        {
            return Err(bad("bad registry"));
        }
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_string())
        } else {
            tag
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

impl Reference {
    /// `registry/repository`.
    pub fn repo_str(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    pub fn with_tag(&self, t: &str) -> Self {
        Reference {
            tag: Some(t.into()),
            digest: None,
            ..self.clone()
        }
    }

    pub fn with_digest(&self, d: Digest) -> Self {
        Reference {
            digest: Some(d),
            ..self.clone()
        }
    }

    /// What goes after `/manifests/`: the digest if any, else the tag.
    pub fn identifier(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_normalization() {
        let cases = [
            ("busybox", "index.docker.io/library/busybox:latest"),
            ("docker.io/x/y:1", "index.docker.io/x/y:1"),
            ("localhost:5000/a/b", "localhost:5000/a/b:latest"),
            ("localhost/a", "localhost/a:latest"),
            ("127.0.0.1:5000/busybox:1.36", "127.0.0.1:5000/busybox:1.36"),
            ("gcr.io/p/i@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "gcr.io/p/i@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ];
        for (input, want) in cases {
            assert_eq!(
                input.parse::<Reference>().unwrap().to_string(),
                want,
                "{input}"
            );
        }
        let both: Reference = "r.example:5000/a/b:1.0@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse().unwrap();
        assert_eq!(both.registry, "r.example:5000");
        assert_eq!(both.repository, "a/b");
        assert_eq!(both.tag.as_deref(), Some("1.0"));
        assert!(both.identifier().starts_with("sha256:"));
        assert_eq!(both.repo_str(), "r.example:5000/a/b");
        assert_eq!(both.with_tag("2").to_string(), "r.example:5000/a/b:2");
        let hub: Reference = "docker.io/x/y".parse().unwrap();
        assert_eq!(
            (hub.registry.as_str(), hub.repository.as_str()),
            ("index.docker.io", "x/y")
        );
        assert_eq!(hub.identifier(), "latest");
        let err = "Bad/Name".parse::<Reference>().unwrap_err().to_string();
        assert!(err.contains("\"Bad/Name\""), "{err}");
        for bad in [
            "",
            "UPPER/case",
            "a:b:c/d",
            "x@sha256:12",
            "reg:5000/a:",
            "a//b",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
    }
}
