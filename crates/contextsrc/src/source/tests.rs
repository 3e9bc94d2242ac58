use super::*;

fn parse(s: &str) -> Source {
    Source::parse(s).unwrap().unwrap()
}

#[test]
fn git_urls_split_at_their_fragments() {
    let Source::Git(g) = parse("git://u:tok@host/org/repo.git#refs/heads/main#abc123") else {
        panic!()
    };
    assert_eq!(g.repo, "u:tok@host/org/repo.git");
    assert_eq!(g.reference.as_deref(), Some("refs/heads/main"));
    assert_eq!(g.commit.as_deref(), Some("abc123"));
    assert_eq!(
        g.display(),
        "git://host/org/repo.git#refs/heads/main#abc123"
    );
    assert!(!format!("{g:?}").contains("tok"));
    let Source::Git(g) = parse("git://host/repo.git") else {
        panic!()
    };
    assert_eq!((g.reference, g.commit), (None, None));
}

#[test]
fn buckets_default_to_kanikos_object_name() {
    let Source::Bucket(b) = parse("s3://bkt/dir/ctx.tar.gz") else {
        panic!()
    };
    assert_eq!(
        (b.provider, b.bucket.as_str(), b.key.as_str()),
        (Provider::S3, "bkt", "dir/ctx.tar.gz")
    );
    let Source::Bucket(b) = parse("gs://bkt") else {
        panic!()
    };
    assert_eq!(
        (b.provider, b.key.as_str()),
        (Provider::Gcs, DEFAULT_OBJECT)
    );
    assert!(Source::parse("s3:///key").is_err());
}

#[test]
fn azure_hosts_are_blobs_and_other_https_urls_downloads() {
    let Source::Bucket(b) = parse("https://acct.blob.core.windows.net/ctr/a/b%20c.tar.gz?sig=x")
    else {
        panic!()
    };
    assert_eq!(b.provider, Provider::Azure);
    assert_eq!(b.account.as_deref(), Some("acct"));
    assert_eq!((b.bucket.as_str(), b.key.as_str()), ("ctr", "a/b c.tar.gz"));
    assert!(matches!(
        parse("https://acct.blob.core.chinacloudapi.cn/c/x"),
        Source::Bucket(_)
    ));
    let Source::Https(u) = parse("https://u:p@example.com/ctx.tar.gz?token=s") else {
        panic!()
    };
    assert_eq!(
        Source::Https(u).display(),
        "https://example.com/ctx.tar.gz?token=***"
    );
    assert!(Source::parse("/workspace").unwrap().is_none());
    assert!(Source::parse("tar://ctx.tar").unwrap().is_none());
}
