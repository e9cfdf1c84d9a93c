//! A minimal ustar writer for the crate download: regular files only, fixed mode and mtime, so
//! the same crate always gives the same archive.

/// One 512-byte header for `path` of `size` bytes, or `None` when the path does not fit ustar's
/// 100 + 155 byte name fields.
fn header(path: &str, size: usize) -> Option<[u8; 512]> {
    let mut h = [0u8; 512];
    let bytes = path.as_bytes();
    let (prefix, name) = if bytes.len() <= 100 {
        (&[][..], bytes)
    } else {
        // Split at a `/` so that the name part fits 100 bytes and the prefix 155.
        let cut = path
            .char_indices()
            .filter(|&(i, c)| c == '/' && i <= 155 && bytes.len() - i - 1 <= 100)
            .map(|(i, _)| i)
            .next()?;
        (&bytes[..cut], &bytes[cut + 1..])
    };
    h[..name.len()].copy_from_slice(name);
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix);
    // The checksum is computed with its own field read as spaces.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    Some(h)
}

/// The archive of `files` (path, contents), each under `root/`.
///
/// # Errors
///
/// A path too long for ustar (named in the message).
pub(crate) fn archive<'a>(
    root: &str,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (path, contents) in files {
        let full = format!("{root}/{path}");
        let h = header(&full, contents.len())
            .ok_or_else(|| format!("path too long for a tar archive: {full}"))?;
        out.extend_from_slice(&h);
        out.extend_from_slice(contents);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    // Two zero blocks end the archive.
    out.resize(out.len() + 1024, 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_size_and_a_valid_checksum() {
        let a = archive("c", [("src/lib.rs", &b"hello"[..])]).expect("fits");
        assert_eq!(a.len(), 512 + 512 + 1024);
        assert_eq!(&a[..10], b"c/src/lib.");
        assert_eq!(&a[124..135], b"00000000005");
        let mut h = a[..512].to_vec();
        let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).expect("ascii"), 8)
            .expect("octal");
        h[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, h.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert_eq!(&a[512..517], b"hello");
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        assert!(archive("c", [(long.as_str(), &b""[..])]).is_ok());
        assert!(archive("c", [("x".repeat(300).as_str(), &b""[..])]).is_err());
    }
}
