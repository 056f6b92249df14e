//! Text encodings of Vietnamese attribute data (DBF files): UTF-8, Windows-1258 and the two legacy
//! 8-bit font encodings still found in provincial archives, TCVN3 (ABC) and VNI-Windows. Every
//! decoder returns Unicode in NFC, the form PostgreSQL compares and the OGC API serves.
//!
//! Sources of the tables:
//! - **TCVN3 (ABC)**: the 8-bit code table of TCVN 5712:1993 "VN3" (the "ABC" fonts `.VnTime`,
//!   `.VnArial`): one byte per precomposed lowercase letter (à = 0xB5, ạ = 0xB9, đ = 0xAE, ư = 0xAD,
//!   …) and seven uppercase letters without tone (Ă Â Đ Ê Ô Ơ Ư = 0xA1 0xA2 0xA7 0xA3 0xA4 0xA5
//!   0xA6). Uppercase toned letters have no code of their own in VN3 (they were written with an
//!   uppercase font over the lowercase codes) and decode to the lowercase letter. The other bytes
//!   are read as Windows-1252.
//! - **VNI-Windows** (VNI Software's font encoding): a base ASCII letter followed by a mark byte
//!   taken from the Latin-1 range (sắc 0xF9 "ù", huyền 0xF8 "ø", hỏi 0xFB "û", ngã 0xF5 "õ",
//!   nặng 0xEF "ï"; circumflex 0xE2 "â" and with a tone 0xE1 0xE0 0xE5 0xE3 0xE4; breve 0xEA "ê"
//!   and with a tone 0xE9 0xE8 0xFA 0xFC 0xEB; the uppercase marks 0x20 lower), plus single bytes
//!   for ơ 0xF4, ư 0xF6, đ 0xF1, í ì ỉ ĩ ị 0xED 0xEC 0xE6 0xF3 0xF2 and ỵ 0xEE (uppercase 0x20
//!   lower). Mark bytes decode to Unicode combining marks and the text is then composed (NFC).
//!
//! Both tables are checked in the tests against words encoded by hand ("Hà Nội" is `Hµ Néi` in
//! TCVN3 and `Haø Noäi` in VNI).
//!
//! Detection ([`detect`]): text that is valid UTF-8 with at least one multibyte sequence is UTF-8;
//! otherwise each 8-bit decoding is scored by how many of the words it produces are well-formed
//! Vietnamese (letters of the Vietnamese alphabet only, at most one tone mark, no stray combining
//! mark), and the best one wins.

use std::fmt;

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// A text encoding of attribute data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (ASCII included).
    Utf8,
    /// Windows-1258 (Vietnamese ANSI code page; tones as combining marks).
    Windows1258,
    /// TCVN 5712:1993 VN3, the "ABC" font encoding.
    Tcvn3,
    /// VNI-Windows font encoding.
    Vni,
    /// Windows-1252 / ISO 8859-1 (Western European; a fallback for non-Vietnamese files).
    Latin1,
}

impl TextEncoding {
    /// The encoding for a name given by the user (`--encoding`) or found in a `.cpg` file:
    /// `UTF-8`, `1258`/`CP1258`/`windows-1258`, `TCVN3`/`ABC`, `VNI`, `latin1`/`1252`/`ISO-8859-1`.
    pub fn from_name(name: &str) -> Option<TextEncoding> {
        let n: String =
            name.trim().chars().filter(|c| !matches!(c, '-' | '_' | ' ')).collect::<String>().to_ascii_lowercase();
        match n.as_str() {
            "utf8" | "65001" => Some(TextEncoding::Utf8),
            "1258" | "cp1258" | "windows1258" | "ansi1258" => Some(TextEncoding::Windows1258),
            "tcvn3" | "tcvn" | "abc" | "tcvn5712" | "vn3" => Some(TextEncoding::Tcvn3),
            "vni" | "vniwindows" | "vniwin" => Some(TextEncoding::Vni),
            "latin1" | "iso88591" | "1252" | "cp1252" | "windows1252" | "8859" => Some(TextEncoding::Latin1),
            _ => None,
        }
    }

    /// Decodes a field's bytes to NFC Unicode. Never fails: bytes a table lacks become U+FFFD
    /// (UTF-8) or their Windows-1252 character (8-bit encodings).
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => nfc(Cow::Borrowed(s)),
                Err(_) => nfc(String::from_utf8_lossy(bytes)),
            },
            TextEncoding::Windows1258 => nfc(encoding_rs::WINDOWS_1258.decode_without_bom_handling(bytes).0),
            TextEncoding::Latin1 => nfc(encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0),
            TextEncoding::Tcvn3 => nfc(Cow::Owned(bytes.iter().map(|&b| tcvn3_char(b)).collect())),
            TextEncoding::Vni => {
                let mut out = String::with_capacity(bytes.len() + 8);
                for &b in bytes {
                    vni_push(b, &mut out);
                }
                nfc(Cow::Owned(out))
            }
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Windows1258 => "windows-1258",
            TextEncoding::Tcvn3 => "TCVN3",
            TextEncoding::Vni => "VNI",
            TextEncoding::Latin1 => "windows-1252",
        })
    }
}

/// A text in NFC: as it is when the quick check says it is NFC already (ASCII always is),
/// else composed.
fn nfc(text: Cow<'_, str>) -> String {
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text.into_owned()
    } else {
        text.nfc().collect()
    }
}

/// A byte as Windows-1252.
fn cp1252(b: u8) -> char {
    let one = [b];
    encoding_rs::WINDOWS_1252.decode_without_bom_handling(&one).0.chars().next().unwrap_or('\u{fffd}')
}

/// TCVN 5712:1993 VN3 (ABC), bytes 0xA1–0xFE; other bytes as Windows-1252.
fn tcvn3_char(b: u8) -> char {
    match b {
        0xA1 => 'Ă',
        0xA2 => 'Â',
        0xA3 => 'Ê',
        0xA4 => 'Ô',
        0xA5 => 'Ơ',
        0xA6 => 'Ư',
        0xA7 => 'Đ',
        0xA8 => 'ă',
        0xA9 => 'â',
        0xAA => 'ê',
        0xAB => 'ô',
        0xAC => 'ơ',
        0xAD => 'ư',
        0xAE => 'đ',
        0xB5 => 'à',
        0xB6 => 'ả',
        0xB7 => 'ã',
        0xB8 => 'á',
        0xB9 => 'ạ',
        0xBB => 'ằ',
        0xBC => 'ẳ',
        0xBD => 'ẵ',
        0xBE => 'ắ',
        0xC6 => 'ặ',
        0xC7 => 'ầ',
        0xC8 => 'ẩ',
        0xC9 => 'ẫ',
        0xCA => 'ấ',
        0xCB => 'ậ',
        0xCC => 'è',
        0xCE => 'ẻ',
        0xCF => 'ẽ',
        0xD0 => 'é',
        0xD1 => 'ẹ',
        0xD2 => 'ề',
        0xD3 => 'ể',
        0xD4 => 'ễ',
        0xD5 => 'ế',
        0xD6 => 'ệ',
        0xD7 => 'ì',
        0xD8 => 'ỉ',
        0xDC => 'ĩ',
        0xDD => 'í',
        0xDE => 'ị',
        0xDF => 'ò',
        0xE1 => 'ỏ',
        0xE2 => 'õ',
        0xE3 => 'ó',
        0xE4 => 'ọ',
        0xE5 => 'ồ',
        0xE6 => 'ổ',
        0xE7 => 'ỗ',
        0xE8 => 'ố',
        0xE9 => 'ộ',
        0xEA => 'ờ',
        0xEB => 'ở',
        0xEC => 'ỡ',
        0xED => 'ớ',
        0xEE => 'ợ',
        0xEF => 'ù',
        0xF1 => 'ủ',
        0xF2 => 'ũ',
        0xF3 => 'ú',
        0xF4 => 'ụ',
        0xF5 => 'ừ',
        0xF6 => 'ử',
        0xF7 => 'ữ',
        0xF8 => 'ứ',
        0xF9 => 'ự',
        0xFA => 'ỳ',
        0xFB => 'ỷ',
        0xFC => 'ỹ',
        0xFD => 'ý',
        0xFE => 'ỵ',
        _ => cp1252(b),
    }
}

const ACUTE: char = '\u{301}';
const GRAVE: char = '\u{300}';
const HOOK: char = '\u{309}';
const TILDE: char = '\u{303}';
const DOT: char = '\u{323}';
const CIRCUMFLEX: char = '\u{302}';
const BREVE: char = '\u{306}';

/// VNI-Windows: appends what one byte stands for (a letter, or combining marks).
fn vni_push(b: u8, out: &mut String) {
    // Uppercase marks and letters are 0x20 below the lowercase ones.
    let lower = if (0xC0..=0xDF).contains(&b) { b + 0x20 } else { b };
    let upper = lower != b;
    let marks: &[char] = match lower {
        0xF9 => &[ACUTE],
        0xF8 => &[GRAVE],
        0xFB => &[HOOK],
        0xF5 => &[TILDE],
        0xEF => &[DOT],
        0xE2 => &[CIRCUMFLEX],
        0xE1 => &[CIRCUMFLEX, ACUTE],
        0xE0 => &[CIRCUMFLEX, GRAVE],
        0xE5 => &[CIRCUMFLEX, HOOK],
        0xE3 => &[CIRCUMFLEX, TILDE],
        0xE4 => &[CIRCUMFLEX, DOT],
        0xEA => &[BREVE],
        0xE9 => &[BREVE, ACUTE],
        0xE8 => &[BREVE, GRAVE],
        0xFA => &[BREVE, HOOK],
        0xFC => &[BREVE, TILDE],
        0xEB => &[BREVE, DOT],
        _ => &[],
    };
    if !marks.is_empty() {
        out.extend(marks);
        return;
    }
    let letter = match lower {
        0xF4 => Some(('ơ', 'Ơ')),
        0xF6 => Some(('ư', 'Ư')),
        0xF1 => Some(('đ', 'Đ')),
        0xED => Some(('í', 'Í')),
        0xEC => Some(('ì', 'Ì')),
        0xE6 => Some(('ỉ', 'Ỉ')),
        0xF3 => Some(('ĩ', 'Ĩ')),
        0xF2 => Some(('ị', 'Ị')),
        0xEE => Some(('ỵ', 'Ỵ')),
        _ => None,
    };
    match letter {
        Some((l, u)) => out.push(if upper { u } else { l }),
        None => out.push(cp1252(b)),
    }
}

/// The result of [`detect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The encoding chosen.
    pub encoding: TextEncoding,
    /// Whether the text had any byte above 0x7F at all (otherwise the choice is moot: ASCII).
    pub non_ascii: bool,
    /// Whether the choice rests on evidence (a winning score), rather than being a fallback.
    pub confident: bool,
}

/// Guesses the encoding of sample text (field values of the first records of a file).
pub fn detect(samples: &[Vec<u8>]) -> Detected {
    let non_ascii = samples.iter().any(|s| s.iter().any(|b| *b >= 0x80));
    if !non_ascii {
        return Detected { encoding: TextEncoding::Utf8, non_ascii, confident: true };
    }
    if samples.iter().all(|s| std::str::from_utf8(s).is_ok()) {
        return Detected { encoding: TextEncoding::Utf8, non_ascii, confident: true };
    }
    let candidates = [TextEncoding::Tcvn3, TextEncoding::Vni, TextEncoding::Windows1258, TextEncoding::Latin1];
    let mut best = (TextEncoding::Windows1258, i64::MIN);
    for encoding in candidates {
        let score: i64 = samples.iter().map(|s| score(&encoding.decode(s))).sum();
        if score > best.1 {
            best = (encoding, score);
        }
    }
    if best.1 <= 0 {
        // Nothing reads as Vietnamese: a Western file, most likely.
        return Detected { encoding: TextEncoding::Latin1, non_ascii, confident: false };
    }
    Detected { encoding: best.0, non_ascii, confident: true }
}

/// The vowels with their five toned forms: the first of each group is the toneless vowel.
const VOWELS: [&str; 12] = [
    "aàáảãạ",
    "ăằắẳẵặ",
    "âầấẩẫậ",
    "eèéẻẽẹ",
    "êềếểễệ",
    "iìíỉĩị",
    "oòóỏõọ",
    "ôồốổỗộ",
    "ơờớởỡợ",
    "uùúủũụ",
    "ưừứửữự",
    "yỳýỷỹỵ",
];
/// Initial consonants, longest first.
const INITIALS: [&str; 27] = [
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g", "h", "k", "l", "m",
    "n", "p", "q", "r", "s", "t", "v",
];
/// Final consonants, longest first.
const FINALS: [&str; 8] = ["ch", "ng", "nh", "c", "m", "n", "p", "t"];
/// Vowel nuclei (toneless), with their glides.
const NUCLEI: [&str; 55] = [
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia",
    "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ",
    "ưu", "yê", "iêu", "oai", "oay", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyê", "uyu", "yêu", "uê",
];

/// Whether a word (any case) is one well-formed Vietnamese syllable: initial consonant, vowel
/// nucleus, final consonant, at most one tone.
fn is_syllable(word: &str) -> bool {
    let mut base = String::with_capacity(word.len());
    let mut tones = 0;
    for c in word.chars().flat_map(char::to_lowercase) {
        if let Some((group, i)) = VOWELS.iter().find_map(|g| g.chars().position(|v| v == c).map(|i| (g, i))) {
            tones += usize::from(i > 0);
            base.extend(group.chars().next());
        } else if c.is_ascii_lowercase() || c == 'đ' {
            base.push(c);
        } else {
            return false;
        }
    }
    if tones > 1 {
        return false;
    }
    let initial = INITIALS.iter().find(|i| base.starts_with(**i)).copied().unwrap_or("");
    // "gìn", "gì": the i of "gi" may be the nucleus itself.
    well_formed(&base[initial.len()..]) || (initial == "gi" && well_formed(&base[1..]))
}

/// Whether what follows the initial consonant is a vowel nucleus and an optional final.
fn well_formed(rest: &str) -> bool {
    let rest = FINALS
        .iter()
        .find(|f| rest.ends_with(**f) && rest.len() > f.len())
        .map_or(rest, |f| &rest[..rest.len() - f.len()]);
    NUCLEI.contains(&rest)
}

/// +1 for each word with a non-ASCII letter that is a well-formed Vietnamese syllable, −1 for
/// each that is not; ASCII words count nothing.
fn score(text: &str) -> i64 {
    text.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation() || c.is_ascii_digit())
        .filter(|w| !w.is_ascii())
        .map(|w| if is_syllable(w) { 1 } else { -1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::is_nfc;

    /// Encodes with a table by searching it (tests only): each char of `text` must be one byte.
    fn tcvn3_bytes(text: &str) -> Vec<u8> {
        text.chars()
            .map(|c| {
                if c.is_ascii() {
                    return c as u8;
                }
                (0x80..=0xFFu8).find(|b| tcvn3_char(*b) == c).unwrap_or_else(|| panic!("{c} not in TCVN3"))
            })
            .collect()
    }

    fn assert_decodes(encoding: TextEncoding, cases: &[(&[u8], &str)]) {
        for (bytes, want) in cases {
            let got = encoding.decode(bytes);
            assert_eq!(&got, want, "{encoding} {bytes:?}");
            assert!(is_nfc(&got));
        }
    }

    #[test]
    fn tcvn3_known_words() {
        // Byte strings as TCVN3 fonts show them in a Western code page.
        let cases: &[(&[u8], &str)] = &[
            (b"H\xb5 N\xe9i", "Hà Nội"),
            (b"\xa7\xcat \xeb t\xb9i n\xabng th\xabn", "Đất ở tại nông thôn"),
            (b"Nguy\xd4n", "Nguyễn"),
            (b"Ph\xad\xeang", "Phường"),
            (b"Th\xf6a \xae\xcat", "Thửa đất"),
        ];
        assert_decodes(TextEncoding::Tcvn3, cases);
        assert_eq!(tcvn3_bytes("Sóc Sơn"), b"S\xe3c S\xacn");
    }

    #[test]
    fn vni_known_words() {
        let cases: &[(&[u8], &str)] = &[
            (b"Ha\xf8 No\xe4i", "Hà Nội"),
            (b"\xd1a\xe1t \xf4\xfb ta\xefi no\xe2ng tho\xe2n", "Đất ở tại nông thôn"),
            (b"Nguye\xe3n", "Nguyễn"),
            (b"Ph\xf6\xf4\xf8ng", "Phường"),
            (b"Th\xf6\xfba \xf1a\xe1t", "Thửa đất"),
            (b"NGUYE\xc3N VA\xc8N", "NGUYỄN VẰN"),
            (b"\xd1\xd6\xd4\xd8NG", "ĐƯỜNG"),
            (b"ky\xf9 hie\xe2u, \xee", "ký hiêu, ỵ"),
        ];
        assert_decodes(TextEncoding::Vni, cases);
    }

    #[test]
    fn windows_1258_and_utf8_come_out_nfc() {
        // Windows-1258: "Hà Nội" = H a 0xCC(grave) ... ô 0xF2(dot below).
        let got = TextEncoding::Windows1258.decode(b"Ha\xcc N\xf4\xf2i");
        assert_eq!(got, "Hà Nội");
        assert!(is_nfc(&got));
        // Decomposed UTF-8 in, NFC out.
        let got = TextEncoding::Utf8.decode("Nguye\u{302}\u{303}n".as_bytes());
        assert_eq!(got, "Nguyễn");
    }

    #[test]
    fn names() {
        assert_eq!(TextEncoding::from_name("UTF-8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::from_name("CP1258"), Some(TextEncoding::Windows1258));
        assert_eq!(TextEncoding::from_name(" 1258\r\n"), Some(TextEncoding::Windows1258));
        assert_eq!(TextEncoding::from_name("TCVN3"), Some(TextEncoding::Tcvn3));
        assert_eq!(TextEncoding::from_name("vni-windows"), Some(TextEncoding::Vni));
        assert_eq!(TextEncoding::from_name("ISO-8859-1"), Some(TextEncoding::Latin1));
        assert_eq!(TextEncoding::from_name("EBCDIC"), None);
    }

    #[test]
    fn syllables() {
        for ok in ["Nguyễn", "PHƯỜNG", "gìn", "Đất", "khuyến", "người", "quốc", "thửa"] {
            assert!(is_syllable(ok), "{ok}");
        }
        // VNI bytes read as TCVN3, and TCVN3 bytes read as Windows-1252.
        for bad in ["Haứ", "Noọi", "Nguyeễn", "Néi", "Hµ", "ÑaÙt"] {
            assert!(!is_syllable(bad), "{bad}");
        }
    }

    #[test]
    fn detection() {
        let tcvn3: Vec<Vec<u8>> = vec![
            b"\xa7\xcat \xeb t\xb9i n\xabng th\xabn".to_vec(),
            b"Nguy\xd4n V\xa9n A".to_vec(),
            b"Ph\xad\xeang".to_vec(),
        ];
        assert_eq!(detect(&tcvn3).encoding, TextEncoding::Tcvn3);
        let vni: Vec<Vec<u8>> = vec![
            b"\xd1a\xe1t \xf4\xfb ta\xefi no\xe2ng tho\xe2n".to_vec(),
            b"Nguye\xe3n Va\xe9n A".to_vec(),
            b"Ph\xf6\xf4\xf8ng".to_vec(),
        ];
        assert_eq!(detect(&vni).encoding, TextEncoding::Vni);
        let cp1258: Vec<Vec<u8>> =
            vec![b"\xd0\xe2\xect \xf5\xd2 ta\xf2i n\xf4ng th\xf4n".to_vec(), b"Ha\xcc N\xf4\xf2i".to_vec()];
        assert_eq!(detect(&cp1258).encoding, TextEncoding::Windows1258);
        let utf8 = vec!["Thửa đất".as_bytes().to_vec()];
        assert_eq!(detect(&utf8).encoding, TextEncoding::Utf8);
        let ascii = vec![b"Soc Son".to_vec()];
        let d = detect(&ascii);
        assert_eq!((d.encoding, d.non_ascii), (TextEncoding::Utf8, false));
        // pyshp's latin1.dbf: "Ñandú" reads as nothing Vietnamese: a Western fallback, not confident.
        let latin1 = vec![b"\xd1and\xfa".to_vec()];
        let d = detect(&latin1);
        assert_eq!((d.encoding, d.confident), (TextEncoding::Latin1, false));
    }
}
