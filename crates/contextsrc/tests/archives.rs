//! Remote context archives are bounded when unpacked, as layers are.

use testkit::servers::http::{Config, HttpServer};

/// A remote archive that expands past `KANIKO_MAX_LAYER_EXPANSION` times what was read
/// (a decompression bomb) stops with an error naming the variable.
#[test]
fn a_decompression_bomb_context_stops() {
    use std::io::{Read, Write};
    let srv = HttpServer::start(Config::default()).unwrap();
    let mut tar = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar);
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(64 << 20);
        b.append_data(&mut h, "zeros", std::io::repeat(0).take(64 << 20))
            .unwrap();
        b.finish().unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).unwrap();
    srv.put_file("bomb.tar.gz", &gz.finish().unwrap()).unwrap();
    let url = format!("http://{}/files/bomb.tar.gz", srv.addr);
    let src = contextsrc::Source::parse(&url).unwrap().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let opts = contextsrc::Options {
        expansion: contextsrc::Expansion {
            ratio: 10,
            floor: 1 << 20,
        },
        ..Default::default()
    };
    let err = contextsrc::fetch(&src, &opts, dest.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("KANIKO_MAX_LAYER_EXPANSION"), "{err}");
    // Without the bound the same archive unpacks.
    let dest = tempfile::tempdir().unwrap();
    contextsrc::fetch(&src, &contextsrc::Options::default(), dest.path()).unwrap();
    assert_eq!(
        std::fs::metadata(dest.path().join("zeros")).unwrap().len(),
        64 << 20
    );
}
