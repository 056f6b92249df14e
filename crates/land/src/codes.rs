//! Land-type codes (mã loại đất) of TT 08/2024/TT-BTNMT Annex II-A, and the legacy codes of
//! TT 25/2014 and TT 27/2018 still found on older maps. Source: ../shared/domain/vietnam-brief.md
//! §3 (secondary; the annex PDF has not been checked, so enforcement must stay configurable).

/// Current codes (TT 08/2024, in force from 1 Aug 2024), with their Vietnamese meaning.
pub const CURRENT: &[(&str, &str)] = &[
    ("LUC", "Đất chuyên trồng lúa"),
    ("LUK", "Đất trồng lúa còn lại"),
    ("HNK", "Đất trồng cây hằng năm khác"),
    ("CLN", "Đất trồng cây lâu năm"),
    ("RDD", "Đất rừng đặc dụng"),
    ("RPH", "Đất rừng phòng hộ"),
    ("RSX", "Đất rừng sản xuất"),
    ("NTS", "Đất nuôi trồng thủy sản"),
    ("CNT", "Đất chăn nuôi tập trung"),
    ("LMU", "Đất làm muối"),
    ("NKH", "Đất nông nghiệp khác"),
    ("ONT", "Đất ở tại nông thôn"),
    ("ODT", "Đất ở tại đô thị"),
    ("TSC", "Đất xây dựng trụ sở cơ quan"),
    ("CQP", "Đất quốc phòng"),
    ("CAN", "Đất an ninh"),
    ("DVH", "Đất xây dựng cơ sở văn hóa"),
    ("DYT", "Đất xây dựng cơ sở y tế"),
    ("DGD", "Đất xây dựng cơ sở giáo dục và đào tạo"),
    ("DTT", "Đất xây dựng cơ sở thể dục, thể thao"),
    ("DKH", "Đất xây dựng cơ sở khoa học và công nghệ"),
    ("DSK", "Đất xây dựng cơ sở dịch vụ xã hội"),
    ("DSO", "Đất xây dựng công trình sự nghiệp khác"),
    ("SKK", "Đất khu công nghiệp"),
    ("SKN", "Đất cụm công nghiệp"),
    ("TMD", "Đất thương mại, dịch vụ"),
    ("SKC", "Đất cơ sở sản xuất phi nông nghiệp"),
    ("SKS", "Đất sử dụng cho hoạt động khoáng sản"),
    ("DGT", "Đất công trình giao thông"),
    ("DTL", "Đất công trình thủy lợi"),
    ("DDT", "Đất có di tích lịch sử - văn hóa"),
    ("DRA", "Đất bãi thải, xử lý chất thải"),
    ("DCK", "Đất công trình công cộng khác"),
    ("DSH", "Đất sinh hoạt cộng đồng"),
    ("DKV", "Đất khu vui chơi, giải trí công cộng"),
    ("DNL", "Đất công trình năng lượng"),
    ("DBV", "Đất công trình bưu chính, viễn thông"),
    ("NTD", "Đất nghĩa trang, nhà tang lễ"),
    ("TON", "Đất tôn giáo"),
    ("TIN", "Đất tín ngưỡng"),
    ("SON", "Đất sông, ngòi, kênh, rạch, suối"),
    ("MNC", "Đất có mặt nước chuyên dùng"),
    ("PNK", "Đất phi nông nghiệp khác"),
    ("BCS", "Đất bằng chưa sử dụng"),
    ("DCS", "Đất đồi núi chưa sử dụng"),
    ("NCS", "Núi đá không có rừng cây"),
];

/// Legacy codes (TT 25/2014 detail codes, TT 27/2018 and planning codes), accepted only in
/// historical mode for surveys before 1 Aug 2024.
pub const LEGACY: &[&str] = &[
    "LUN", "COC", "BHK", "NHK", "LNC", "LNQ", "LNK", "RSN", "RST", "RSK", "RSM", "RPN", "RPT", "RPK", "RPM", "RDN",
    "RDT", "RDK", "RDM", "TSL", "TSN", "DHT", "KDT", "KKT", "SKT", "KCN", "DDL", "DTS", "DNG", "CSK", "SKX",
];

/// Whether a code is in the current (TT 08/2024) list.
pub fn is_current(code: &str) -> bool {
    CURRENT.iter().any(|(c, _)| *c == code)
}

/// Whether a code is only in the legacy list.
pub fn is_legacy(code: &str) -> bool {
    LEGACY.contains(&code)
}

/// The legacy codes of TT 25/2014 that became one 2024 code each (brief §3, [U] from names):
/// rice, annual and perennial crops, forests by their old sub-types, aquaculture. Shared by
/// the map's colours ([`crate::style`]) and the statistics' `legacy=map`
/// ([`crate::statistics::LEGACY_TO_2024`]), each adding its own entries with [`join`].
pub const LEGACY_ONE_TO_ONE: [(&str, &str); 20] = [
    ("LUN", "LUK"),
    ("BHK", "HNK"),
    ("NHK", "HNK"),
    ("LNC", "CLN"),
    ("LNQ", "CLN"),
    ("LNK", "CLN"),
    ("RSN", "RSX"),
    ("RST", "RSX"),
    ("RSK", "RSX"),
    ("RSM", "RSX"),
    ("RPN", "RPH"),
    ("RPT", "RPH"),
    ("RPK", "RPH"),
    ("RPM", "RPH"),
    ("RDN", "RDD"),
    ("RDT", "RDD"),
    ("RDK", "RDD"),
    ("RDM", "RDD"),
    ("TSL", "NTS"),
    ("TSN", "NTS"),
];

/// Two lists of code pairs as one (`N` = their total length), for constant tables that extend
/// [`LEGACY_ONE_TO_ONE`].
///
/// # Panics
/// At compile time, when `N` is not the sum of the lengths.
pub const fn join<const N: usize>(
    first: &[(&'static str, &'static str)],
    then: &[(&'static str, &'static str)],
) -> [(&'static str, &'static str); N] {
    assert!(first.len() + then.len() == N, "N must be the total length");
    let mut out = [("", ""); N];
    let mut i = 0;
    while i < N {
        out[i] = if i < first.len() { first[i] } else { then[i - first.len()] };
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_do_not_overlap_and_codes_are_three_letters() {
        for (code, _) in CURRENT {
            assert_eq!(code.len(), 3);
            assert!(!is_legacy(code), "{code} is in both lists");
        }
        assert!(is_current("ONT") && is_legacy("LUN") && !is_current("XYZ"));
    }
}
