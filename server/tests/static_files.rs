//! The static folders over real TCP, with real symlinks (issue 14, finding 3): a link that
//! leaves `--www-dir` or `--pkg-dir` is not followed, and dotfiles are not served; both are the
//! JSON 404 of a missing file.

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::time::Duration;

use video_translation_server::config::Settings;

mod common;
use common::{assert_error, raw_body, raw_exchange, spawn_server};

/// A fresh folder under the system's temporary one, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vts-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn get(address: std::net::SocketAddr, path: &str) -> String {
    raw_exchange(
        address,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        Duration::from_secs(5),
    )
}

#[test]
fn links_out_of_the_served_folders_and_dotfiles_are_404_in_the_error_shape() {
    let outside = Scratch::new("outside");
    let secret = outside.write("secret.txt", "the secret");
    let www = Scratch::new("www");
    www.write("index.html", "<title>demo</title>");
    www.write("app.js", "export {};");
    www.write(".env", "API_KEY=the secret");
    www.write(".git/config", "the secret");
    symlink(&secret, www.0.join("passwd")).unwrap();
    symlink(&outside.0, www.0.join("elsewhere")).unwrap();
    symlink(www.0.join("app.js"), www.0.join("alias.js")).unwrap();
    let pkg = Scratch::new("pkg");
    pkg.write("client.js", "export {};");
    symlink(&secret, pkg.0.join("client_bg.wasm")).unwrap();

    let address = spawn_server(Settings {
        www_dir: www.0.clone(),
        pkg_dir: pkg.0.clone(),
        ..Settings::for_tests(Duration::from_secs(60))
    });

    for served in ["/", "/app.js", "/alias.js", "/pkg/client.js"] {
        let answer = get(address, served);
        assert!(answer.starts_with("HTTP/1.1 200"), "{served}: {answer}");
    }
    for refused in [
        "/passwd",
        "/elsewhere/secret.txt",
        "/pkg/client_bg.wasm",
        "/.env",
        "/.git/config",
        "/app.js/../.env",
        "/%2e%65nv",
    ] {
        let answer = get(address, refused);
        assert!(answer.starts_with("HTTP/1.1 404"), "{refused}: {answer}");
        assert!(!answer.contains("the secret"), "{refused}: {answer}");
        assert_error(&raw_body(&answer), "not_found");
    }
}

#[test]
fn an_index_file_that_links_out_is_not_served() {
    let outside = Scratch::new("index-outside");
    let secret = outside.write("secret.html", "the secret");
    let www = Scratch::new("index-www");
    symlink(&secret, www.0.join("index.html")).unwrap();
    let address = spawn_server(Settings {
        www_dir: www.0.clone(),
        ..Settings::for_tests(Duration::from_secs(60))
    });
    let answer = get(address, "/");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert_error(&raw_body(&answer), "not_found");
}
