//! The `env` helper (the maintained kaniko fork's): a registry's user name and password in
//! `KANIKO_<HOST>_USER` and `KANIKO_<HOST>_PASSWORD`, where `<HOST>` is the registry's
//! host (with its port) upper-cased, `.` made `_` and `-` made `__`. The fork makes `-` a
//! single `_`, so that `registry-example.com` and `registry.example.com` read the same
//! variables and credentials meant for one go to the other: that spelling is refused for a
//! host with a `-` (a warning names the one to use). Shorter suffixes of the host
//! match too, most specific first: for `eu.registry.example.com` the names
//! `KANIKO_EU_REGISTRY_EXAMPLE_COM_*`, then `KANIKO_REGISTRY_EXAMPLE_COM_*`,
//! `KANIKO_EXAMPLE_COM_*` and `KANIKO_COM_*` are tried. A port's `:` is tried as
//! written (the fork's spelling) and as `_` (a name a shell can export):
//! `KANIKO_REGISTRY_EXAMPLE_COM_5000_USER`.

use super::Snapshot;
use crate::credential::Credential;

/// The `KANIKO_<HOST>` prefixes tried for `registry` (`host[:port]`), in order.
pub(crate) fn prefixes(registry: &str) -> Vec<String> {
    spelled(registry, "__")
}

/// The prefixes with `-` written as `dash`.
fn spelled(registry: &str, dash: &str) -> Vec<String> {
    let upper = registry.to_ascii_uppercase().replace('-', dash);
    let labels: Vec<&str> = upper.split('.').collect();
    let mut out = Vec::new();
    for i in 0..labels.len() {
        let joined = labels[i..].join("_");
        for form in [joined.clone(), joined.replace(':', "_")] {
            let name = format!("KANIKO_{form}");
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// The credential the environment holds for `registry`, if any.
pub(crate) fn get(env: &Snapshot, registry: &str) -> Option<Credential> {
    let found = prefixes(registry).into_iter().find_map(|p| {
        let user = env.var(&format!("{p}_USER"))?;
        let password = env.var(&format!("{p}_PASSWORD"))?;
        Some(Credential::Basic {
            username: user.to_string(),
            password: password.to_string(),
        })
    });
    if found.is_none() && registry.contains('-') {
        let wanted = prefixes(registry);
        for p in spelled(registry, "_")
            .into_iter()
            .filter(|p| !wanted.contains(p))
        {
            if env.var(&format!("{p}_USER")).is_some() {
                tracing::warn!(
                    "{p}_USER is not used for {registry}: `-` and `.` would both read as `_`; name it {}_USER (`-` as `__`)",
                    wanted[0]
                );
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::Builtins;
    use std::collections::HashMap;

    #[test]
    fn names() {
        assert_eq!(
            prefixes("my-reg.example.com:5000"),
            [
                "KANIKO_MY__REG_EXAMPLE_COM:5000",
                "KANIKO_MY__REG_EXAMPLE_COM_5000",
                "KANIKO_EXAMPLE_COM:5000",
                "KANIKO_EXAMPLE_COM_5000",
                "KANIKO_COM:5000",
                "KANIKO_COM_5000",
            ]
        );
        let vars = HashMap::from([
            ("KANIKO_EXAMPLE_COM_USER".to_string(), "u".to_string()),
            ("KANIKO_EXAMPLE_COM_PASSWORD".into(), "p".into()),
            ("KANIKO_ONLY_EXAMPLE_USER".into(), "lonely".into()),
        ]);
        let b = Builtins::new(Some(&[]), vars);
        assert_eq!(
            get(&b.env, "eu.example.com"),
            Some(Credential::Basic {
                username: "u".into(),
                password: "p".into()
            })
        );
        assert_eq!(get(&b.env, "only.example"), None);
        // registry.example.com's variables never serve registry-example.com.
        let vars = HashMap::from([
            (
                "KANIKO_REGISTRY_EXAMPLE_COM_USER".to_string(),
                "u".to_string(),
            ),
            ("KANIKO_REGISTRY_EXAMPLE_COM_PASSWORD".into(), "p".into()),
            ("KANIKO_MY__REG_COM_USER".into(), "dash".into()),
            ("KANIKO_MY__REG_COM_PASSWORD".into(), "dp".into()),
        ]);
        let b = Builtins::new(Some(&[]), vars);
        assert!(get(&b.env, "registry.example.com").is_some());
        assert_eq!(get(&b.env, "registry-example.com"), None);
        assert_eq!(
            get(&b.env, "my-reg.com"),
            Some(Credential::Basic {
                username: "dash".into(),
                password: "dp".into()
            })
        );
        assert_eq!(get(&b.env, "example.org"), None);
    }
}
