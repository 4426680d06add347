//! The `tuilerie` command line: help, and configuration errors that name
//! the file, the line and the problem, with a non-zero exit.

use std::process::Command;

fn tuilerie(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tuilerie"))
        .args(args)
        .output()
        .expect("the tuilerie binary runs")
}

#[test]
fn help_documents_serve_and_its_options() {
    let out = tuilerie(&["serve", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--config",
        "--bind",
        "--threads",
        "--log-level",
        "data-samples",
        "/catalog",
    ] {
        assert!(help.contains(word), "serve --help lacks {word}:\n{help}");
    }
}

#[test]
fn a_bad_config_names_the_file_and_line_and_exits_with_2() {
    let dir = std::env::temp_dir().join(format!("tuilerie-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "bind = \"127.0.0.1:0\"\n[[layers]]\nid = \"x\"\npathh = \"a.pmtiles\"\n",
    )
    .unwrap();
    let out = tuilerie(&["serve", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("unknown field `pathh`"), "{err}");

    let out = tuilerie(&[
        "serve",
        "--config",
        dir.join("missing.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_custom_tile_matrix_set_stops_start_up_with_its_name() {
    let dir = std::env::temp_dir().join(format!("tuilerie-cli-tms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.json"),
        r#"{"id": "Broken", "crs": "x", "tileMatrices": []}"#,
    )
    .unwrap();
    let config = dir.join("tuilerie.toml");
    std::fs::write(&config, "tile_matrix_sets = [\"broken.json\"]\n").unwrap();
    let out = tuilerie(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.json") && err.contains("no tile matrices"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
