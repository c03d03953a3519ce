//! The static content (the demo page at `/`, the npm package at `/pkg/`), each confined to its
//! folder: a file is served only if its real path, symlinks resolved, lies inside the folder,
//! and no dotfile or dot-folder is served. Anything else is the JSON 404 of a missing file, so
//! a refusal does not tell whether the file exists.

use std::path::{Component, Path, PathBuf};

use actix_files::Files;

use crate::routes::fallback;

/// The files under `dir`, mounted at `mount`; `index` is served for a folder's own path.
pub fn confined_files(mount: &str, dir: &Path, index: Option<&'static str>) -> Files {
    let files = Files::new(mount, dir)
        // Dot segments pass actix-files' parser, to be refused by `is_served` with the same
        // 404 as a missing file (the parser's refusal is a 400).
        .use_hidden_files()
        .path_filter(Confinement::new(dir, index).into_filter())
        .default_handler(fallback::not_found_service);
    match index {
        Some(index) => files.index_file(index),
        None => files,
    }
}

/// Which request paths may be served from one folder.
#[derive(Debug, Clone)]
struct Confinement {
    /// The folder's real path, or `None` when it does not exist (then nothing is served).
    root: Option<PathBuf>,
    index: Option<&'static str>,
}

impl Confinement {
    fn new(dir: &Path, index: Option<&'static str>) -> Self {
        Confinement {
            root: dir.canonicalize().ok(),
            index,
        }
    }

    fn into_filter(self) -> impl Fn(&Path, &actix_web::dev::RequestHead) -> bool + 'static {
        move |relative, _| self.is_served(relative)
    }

    /// Whether `relative` (a request path as actix-files resolved it, `..` already applied)
    /// may be served. A path that does not exist passes, so actix-files answers its 404.
    fn is_served(&self, relative: &Path) -> bool {
        let Some(root) = &self.root else {
            return false;
        };
        let hidden = relative.components().any(|component| match component {
            Component::Normal(name) => name.as_encoded_bytes().starts_with(b"."),
            // actix-files removes `..` and `.`; refuse them here too, whatever comes in.
            _ => true,
        });
        if hidden {
            return false;
        }
        let path = root.join(relative);
        // A folder is answered with its index file, which may itself be a link out.
        let index = self
            .index
            .filter(|_| path.is_dir())
            .map(|index| path.join(index));
        [Some(path), index]
            .into_iter()
            .flatten()
            .all(|path| inside(root, &path))
    }
}

/// Whether `path`, every symlink resolved, is `root` or lies under it. A path that does not
/// exist is "inside": there is nothing to leak, and actix-files answers 404 for it.
fn inside(root: &Path, path: &Path) -> bool {
    match path.canonicalize() {
        Ok(real) => real.starts_with(root),
        Err(_) => !path.exists() && path.symlink_metadata().is_err(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A fresh folder under the system's temporary one, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("vts-static-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn files_inside_are_served_and_links_out_are_not() {
        let outside = Scratch::new("outside");
        std::fs::write(outside.0.join("secret"), "secret").unwrap();
        let www = Scratch::new("www");
        std::fs::write(www.0.join("page.html"), "page").unwrap();
        std::fs::create_dir(www.0.join("sub")).unwrap();
        symlink(www.0.join("page.html"), www.0.join("alias.html")).unwrap();
        symlink(outside.0.join("secret"), www.0.join("leak")).unwrap();
        symlink(&outside.0, www.0.join("sub/escape")).unwrap();
        symlink(outside.0.join("missing"), www.0.join("dangling")).unwrap();

        let confined = Confinement::new(&www.0, None);
        assert!(confined.is_served(Path::new("page.html")));
        assert!(confined.is_served(Path::new("alias.html")), "a link inside");
        assert!(
            confined.is_served(Path::new("missing.html")),
            "actix-files 404s it"
        );
        assert!(!confined.is_served(Path::new("leak")));
        assert!(!confined.is_served(Path::new("sub/escape/secret")));
        assert!(
            !confined.is_served(Path::new("dangling")),
            "a link out, dangling"
        );
    }

    #[test]
    fn an_index_file_that_links_out_is_not_served() {
        let outside = Scratch::new("index-outside");
        std::fs::write(outside.0.join("secret"), "secret").unwrap();
        let www = Scratch::new("index-www");
        symlink(outside.0.join("secret"), www.0.join("index.html")).unwrap();
        assert!(!Confinement::new(&www.0, Some("index.html")).is_served(Path::new("")));
        assert!(Confinement::new(&www.0, None).is_served(Path::new("")));
    }

    #[test]
    fn dotfiles_and_dot_folders_are_not_served() {
        let www = Scratch::new("dots");
        let confined = Confinement::new(&www.0, None);
        for hidden in [".env", ".git/config", "a/.hidden/b.js"] {
            assert!(!confined.is_served(Path::new(hidden)), "{hidden}");
        }
        assert!(confined.is_served(Path::new("a.b/c.js")));
    }

    #[test]
    fn nothing_is_served_from_a_folder_that_does_not_exist() {
        let confined = Confinement::new(Path::new("/nonexistent/vts/www"), None);
        assert!(!confined.is_served(Path::new("index.html")));
    }
}
