use super::*;

fn files(pairs: &[(&str, &str)]) -> Files {
    let vars: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Files::from_env(|k| vars.get(k).cloned())
}

#[test]
fn files_and_profile_from_the_environment() {
    let f = files(&[("HOME", "/home/u")]);
    assert_eq!(f.config, Some(PathBuf::from("/home/u/.aws/config")));
    assert_eq!(
        f.credentials,
        Some(PathBuf::from("/home/u/.aws/credentials"))
    );
    assert_eq!(f.profile, "default");
    let f = files(&[
        ("AWS_CONFIG_FILE", "/c"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/k"),
        ("AWS_DEFAULT_PROFILE", "old"),
    ]);
    assert_eq!(
        (f.config, f.credentials, f.profile.as_str()),
        (Some("/c".into()), Some("/k".into()), "old")
    );
    assert_eq!(
        files(&[("AWS_PROFILE", "new"), ("AWS_DEFAULT_PROFILE", "old")]).profile,
        "new"
    );
    assert_eq!(files(&[]).credentials, None);
}

const CONFIG: &str = "\
# a comment
[default]
region = eu-west-1
[profile ci]   ; the CI profile
region=us-west-2
output = json
[ci]
region = ignored-without-prefix
";

const CREDENTIALS: &str = "\
[default]
aws_access_key_id = A
aws_secret_access_key=S
[ci]
AWS_Access_Key_Id = B   # trailing comment
aws_secret_access_key = \"T\"
aws_session_token = tok
[profile ci]
aws_access_key_id = ignored-with-prefix
";

fn src(name: &str, text: &str) -> Option<Source> {
    Some(Source {
        name: name.into(),
        text: text.into(),
    })
}

fn profile(name: &str) -> Result<Profile, Error> {
    Profile::read(
        name,
        src("config", CONFIG).as_ref(),
        src("credentials", CREDENTIALS).as_ref(),
    )
}

#[test]
fn profiles_merge_both_files() {
    let d = profile("default").unwrap();
    assert_eq!(d.region(), Some("eu-west-1"));
    let k = d.keys().unwrap().unwrap();
    assert_eq!(
        (k.access_key_id.as_str(), k.secret_access_key.as_str()),
        ("A", "S")
    );
    assert_eq!(k.session_token, None);
    let ci = profile("ci").unwrap();
    assert_eq!(
        (ci.region(), ci.get("output")),
        (Some("us-west-2"), Some("json"))
    );
    let k = ci.keys().unwrap().unwrap();
    assert_eq!(
        (
            k.access_key_id.as_str(),
            k.secret_access_key.as_str(),
            k.session_token.as_deref()
        ),
        ("B", "T", Some("tok"))
    );
    assert!(!format!("{k:?}").contains('T'));
    let none = profile("none").unwrap();
    assert_eq!((none.region(), none.keys().unwrap()), (None, None));
}

#[test]
fn keys_in_the_config_file_count_and_the_credentials_file_wins() {
    let config = "[profile p]\naws_access_key_id = C\naws_secret_access_key = D\nregion = r\n";
    let p = Profile::read("p", src("config", config).as_ref(), None).unwrap();
    assert_eq!(p.keys().unwrap().unwrap().access_key_id, "C");
    let creds = "[p]\naws_access_key_id = E\naws_secret_access_key = F\n";
    let p = Profile::read(
        "p",
        src("config", config).as_ref(),
        src("creds", creds).as_ref(),
    )
    .unwrap();
    assert_eq!(p.keys().unwrap().unwrap().access_key_id, "E");
    assert_eq!(p.region(), Some("r"));
    // `[profile default]` overrides `[default]` in the config file.
    let config = "[profile default]\nregion = a\n[default]\nregion = b\n";
    let p = Profile::read("default", src("config", config).as_ref(), None).unwrap();
    assert_eq!(p.region(), Some("a"));
}

#[test]
fn a_lone_key_id_or_secret_is_an_error() {
    let creds = "[default]\naws_access_key_id = A\n";
    let err = Profile::read("default", None, src("/k", creds).as_ref())
        .unwrap()
        .keys()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "/k: profile default has only one of aws_access_key_id and aws_secret_access_key"
    );
    let creds = "[other]\naws_secret_access_key = S\n[default]\n";
    let p = Profile::read("default", None, src("/k", creds).as_ref()).unwrap();
    assert_eq!(p.keys().unwrap(), None);
}

#[test]
fn lines_as_the_sdks_tokenize_them() {
    let text = "\
orphan = before any section
[ s ]
k: v = w
  ; indented comment
quoted = 'x'
multi = first
  second line
  sub = property
empty =
  nested = value
";
    let s = parse::sections(text).unwrap();
    let m = &s["s"];
    assert_eq!(m["k"], "v = w");
    assert_eq!(m["quoted"], "x");
    assert_eq!(m["multi"], "first\nsecond line");
    assert_eq!(m["empty"], "");
    assert_eq!(s.len(), 1);
    assert_eq!(
        parse::sections("[a]\nnot a property\n").unwrap_err().line,
        2
    );
    let err = Profile::read("d", src("/c", "[default]\ngarbage\n").as_ref(), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/c: line 2: not a [section], key = value or continuation line"
    );
}
