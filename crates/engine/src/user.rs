//! Resolving `USER` and `--chown` values through the build root's /etc/passwd and
//! /etc/group (read through the root, so a symlinked /etc stays inside it).

use crate::root::BuildRoot;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups from /etc/group.
    pub groups: Vec<u32>,
    pub home: Option<String>,
}

impl Identity {
    /// uid 0 and gid 0, with no supplementary groups, home /root.
    pub fn root() -> Identity {
        Identity {
            uid: 0,
            gid: 0,
            groups: Vec::new(),
            home: Some("/root".into()),
        }
    }
}

/// Who runs a RUN when the stage sets no USER: user 0 as BuildKit looks it up (with the
/// groups that list its passwd name, as Alpine lists root), home /root unless passwd says.
pub fn default_user(root: &BuildRoot) -> Identity {
    let mut id = resolve_user(root, "0").unwrap_or_else(|_| Identity::root());
    id.home.get_or_insert_with(|| "/root".into());
    id
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

fn passwd(root: &BuildRoot) -> Vec<PasswdEntry> {
    let text = root.read_to_string("/etc/passwd").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 6 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].into(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].into(),
            })
        })
        .collect()
}

/// (name, gid, members) of every group.
fn groups(root: &BuildRoot) -> Vec<(String, u32, Vec<String>)> {
    let text = root.read_to_string("/etc/group").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            let members = f.get(3).map(|m| {
                m.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            });
            Some((
                f[0].to_string(),
                f[2].parse().ok()?,
                members.unwrap_or_default(),
            ))
        })
        .collect()
}

/// Resolves `user[:group]` as Docker does for USER: names must exist; numeric ids need not.
pub fn resolve_user(root: &BuildRoot, spec: &str) -> Result<Identity, UserError> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entries = passwd(root);
    let entry = entries
        .iter()
        .find(|e| e.name == user || user.parse() == Ok(e.uid));
    let (uid, mut gid, name, home) = match (entry, user.parse::<u32>()) {
        (Some(e), _) => (e.uid, e.gid, Some(e.name.clone()), Some(e.home.clone())),
        (None, Ok(uid)) => (uid, 0, None, None),
        (None, Err(_)) => return Err(UserError::NoUser(user.into())),
    };
    let all_groups = groups(root);
    if let Some(g) = group {
        gid = resolve_group_in(&all_groups, g)?;
    }
    // As runc's user lookup (which BuildKit uses): the groups that list a user found in
    // passwd, unless a group was given; none for a numeric user passwd does not know.
    let mut supplementary = Vec::new();
    if let (None, Some(n)) = (group, &name) {
        for (_, g, members) in &all_groups {
            if members.contains(n) && !supplementary.contains(g) {
                supplementary.push(*g);
            }
        }
    }
    Ok(Identity {
        uid,
        gid,
        groups: supplementary,
        home,
    })
}

fn resolve_group_in(all: &[(String, u32, Vec<String>)], g: &str) -> Result<u32, UserError> {
    if let Some((_, gid, _)) = all.iter().find(|(n, _, _)| n == g) {
        return Ok(*gid);
    }
    g.parse().map_err(|_| UserError::NoGroup(g.into()))
}

/// Resolves a `--chown` value: like USER, but a user without a group gets its primary group,
/// and a numeric user that is not in passwd gets gid = uid's group 0 only when given alone.
pub fn resolve_chown(root: &BuildRoot, spec: &str) -> Result<(u32, u32), UserError> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let uid = match user.parse::<u32>() {
        Ok(n) => n,
        Err(_) => passwd(root)
            .into_iter()
            .find(|e| e.name == user)
            .map(|e| e.uid)
            .ok_or_else(|| UserError::NoUser(user.into()))?,
    };
    let gid = match group {
        Some(g) => resolve_group_in(&groups(root), g)?,
        None => match user.parse::<u32>() {
            Ok(n) => n,
            Err(_) => passwd(root)
                .into_iter()
                .find(|e| e.name == user)
                .map_or(0, |e| e.gid),
        },
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, BuildRoot) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\napp:x:1000:\nstaff:x:50:app\n",
        )
        .unwrap();
        let r = BuildRoot::new(
            d.path().to_path_buf(),
            Default::default(),
            rootfs::SnapshotMode::Full,
        );
        (d, r)
    }

    #[test]
    fn users_and_groups() {
        let (_d, r) = root();
        let app = resolve_user(&r, "app").unwrap();
        assert_eq!(
            (app.uid, app.gid, app.groups.clone()),
            (1000, 1000, vec![50])
        );
        assert_eq!(app.home.as_deref(), Some("/home/app"));
        assert_eq!(default_user(&r), Identity::root());
        let given = resolve_user(&r, "app:staff").unwrap();
        assert_eq!((given.gid, given.groups), (50, vec![]));
        let numeric = resolve_user(&r, "4242").unwrap();
        assert_eq!(
            (numeric.uid, numeric.gid, numeric.groups),
            (4242, 0, vec![])
        );
        assert!(matches!(
            resolve_user(&r, "ghost"),
            Err(UserError::NoUser(_))
        ));
        assert!(matches!(
            resolve_user(&r, "app:ghost"),
            Err(UserError::NoGroup(_))
        ));
        assert_eq!(resolve_chown(&r, "app").unwrap(), (1000, 1000));
        assert_eq!(resolve_chown(&r, "10:20").unwrap(), (10, 20));
        assert_eq!(resolve_chown(&r, "1234").unwrap(), (1234, 1234));
    }
}
