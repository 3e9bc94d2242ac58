//! Git credentials, in kaniko's order: `GIT_TOKEN` (sent as the user name with an empty
//! password), else `GIT_USERNAME`/`GIT_PASSWORD`, else the URL's `user:password@`.

use crate::{Env, Secret};

/// A basic-auth identity. `Debug` shows the user only.
#[derive(Clone, Debug)]
pub(crate) struct Auth {
    pub user: Secret,
    pub password: Secret,
}

impl Auth {
    pub(crate) fn from_env(env: &Env, userinfo: Option<(String, String)>) -> Option<Auth> {
        if let Some(token) = env.secret("GIT_TOKEN") {
            return Some(Auth {
                user: token,
                password: Secret::default(),
            });
        }
        let user = env.secret("GIT_USERNAME");
        let password = env.secret("GIT_PASSWORD");
        if user.is_some() || password.is_some() {
            return Some(Auth {
                user: user.unwrap_or_default(),
                password: password.unwrap_or_default(),
            });
        }
        userinfo.map(|(u, p)| Auth {
            user: Secret::new(u),
            password: Secret::new(p),
        })
    }
}

/// Scheme, host and port (the scheme's default when none is written).
pub(crate) type Origin = (String, String, u16);

/// The origin of `url` (`https://host[:port]/...`).
pub(crate) fn origin(url: &str) -> Option<Origin> {
    let u = url::Url::parse(url).ok()?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default()?,
    ))
}

/// The origin a credential request of the git transport is for.
pub(crate) fn context_origin(ctx: &gix::credentials::protocol::Context) -> Option<Origin> {
    match (&ctx.protocol, &ctx.host) {
        (Some(p), Some(h)) => origin(&format!("{p}://{h}/")),
        _ => origin(&ctx.url.as_ref()?.to_string()),
    }
}

/// Whether `GIT_TOKEN`, `GIT_USERNAME` and `GIT_PASSWORD` may go to the repository at `url`:
/// its origin is one of `origins` (`[scheme://]host[:port]`, https when no scheme is
/// written). Plain http is never assumed: it must be listed as such.
pub fn credentials_allowed(url: &str, origins: &[String]) -> bool {
    let Some(want) = origin(url) else {
        return false;
    };
    origins.iter().any(|o| {
        let o = if o.contains("://") {
            o.clone()
        } else {
            format!("https://{o}")
        };
        origin(&o).as_ref() == Some(&want)
    })
}

/// `user[:password]@host/path` → the percent-decoded user and password, and `host/path`.
pub(crate) fn split_userinfo(repo: &str) -> (Option<(String, String)>, &str) {
    let host_end = repo.find('/').unwrap_or(repo.len());
    let Some(at) = repo[..host_end].rfind('@') else {
        return (None, repo);
    };
    let info = &repo[..at];
    let (u, p) = info.split_once(':').unwrap_or((info, ""));
    (Some((decode(u), decode(p))), &repo[at + 1..])
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_wins_then_user_and_password_then_the_url() {
        let info = Some(("u".to_string(), "p".to_string()));
        let env = |pairs: &[(&str, &str)]| {
            Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        };
        let a = Auth::from_env(
            &env(&[("GIT_TOKEN", "t"), ("GIT_USERNAME", "x")]),
            info.clone(),
        )
        .unwrap();
        assert_eq!((a.user.expose(), a.password.expose()), ("t", ""));
        let a = Auth::from_env(
            &env(&[("GIT_USERNAME", "x"), ("GIT_PASSWORD", "y")]),
            info.clone(),
        )
        .unwrap();
        assert_eq!((a.user.expose(), a.password.expose()), ("x", "y"));
        let a = Auth::from_env(&env(&[]), info).unwrap();
        assert_eq!((a.user.expose(), a.password.expose()), ("u", "p"));
        assert!(Auth::from_env(&env(&[]), None).is_none());
        assert!(
            !format!("{a:?}").contains('p'.to_string().as_str())
                || format!("{a:?}").contains("redacted")
        );
    }

    #[test]
    fn credentials_go_to_listed_origins_only() {
        let listed = vec![
            "git.example".to_string(),
            "http://plain.example:8080".into(),
        ];
        assert!(credentials_allowed("https://git.example/o/r.git", &listed));
        assert!(credentials_allowed(
            "https://GIT.example:443/r.git",
            &listed
        ));
        assert!(!credentials_allowed("http://git.example/r.git", &listed));
        assert!(!credentials_allowed(
            "https://git.example:8443/r.git",
            &listed
        ));
        assert!(!credentials_allowed("https://evil.example/r.git", &listed));
        assert!(credentials_allowed(
            "http://plain.example:8080/r.git",
            &listed
        ));
        assert!(!credentials_allowed(
            "https://plain.example:8080/r.git",
            &listed
        ));
    }

    #[test]
    fn userinfo_is_split_and_decoded() {
        assert_eq!(
            split_userinfo("me:p%40ss@host/o/r.git"),
            (Some(("me".into(), "p@ss".into())), "host/o/r.git")
        );
        assert_eq!(split_userinfo("host/a@b"), (None, "host/a@b"));
    }
}
