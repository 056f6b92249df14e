//! The CRS of a Shapefile's `.prj` (ESRI or OGC WKT 1, or WKT 2), or of a GeoPackage
//! `gpkg_spatial_ref_sys` definition without an EPSG code, mapped to a name `geosector_crs::Crs`
//! understands: `EPSG:<code>` or `VN2000:TM3:<central meridian>`.
//!
//! In order: an EPSG authority code of the outermost object (`AUTHORITY["EPSG","5897"]`,
//! `ID["EPSG",5897]`); a VN-2000 TM-3 zone named in the PROJCS name ("VN-2000 / TM-3 105-30",
//! ESRI "VN_2000_TM_3_105_30", "… TM-3 zone 482"); a Transverse Mercator on the VN-2000 datum
//! from its parameters (central_meridian, scale 0.9999 → TM-3, 0.9996 → UTM 48N/49N; false
//! easting 500 000, false northing 0); a bare GEOGCS on WGS 84 or VN-2000. Anything else is
//! `None`: the caller then uses `--crs` and says so.

use geosector_crs::{tm3_zones, Crs};

/// Maps WKT to a CRS name, or `None` when it is not recognised.
pub fn crs_from_wkt(wkt: &str) -> Option<String> {
    let lower = wkt.to_ascii_lowercase();
    if let Some(code) = outer_epsg(&lower) {
        if Crs::from_epsg(code).is_ok() {
            return Some(format!("EPSG:{code}"));
        }
    }
    let projected = lower.trim_start().starts_with("projcs") || lower.trim_start().starts_with("projcrs");
    let vn2000 =
        ["vn-2000", "vn_2000", "vn2000", "vietnam_2000", "vietnam 2000", "-191.904"].iter().any(|k| lower.contains(k));
    if projected {
        let name = first_quoted(&lower).unwrap_or_default();
        if let Some(cm) = tm3_name(&name) {
            return custom_or_epsg(cm);
        }
        if let Some(zone) = name.split("zone ").nth(1).and_then(|z| z.split_whitespace().next()) {
            if let Some(def) = tm3_zones().find(|d| d.name.to_ascii_lowercase().ends_with(&format!("zone {zone}"))) {
                return Some(format!("EPSG:{}", def.epsg));
            }
        }
        if !vn2000 || !(lower.contains("transverse_mercator") || lower.contains("transverse mercator")) {
            return None;
        }
        let cm = parameter(&lower, &["central_meridian", "longitude of natural origin"])?;
        let k = parameter(&lower, &["scale_factor", "scale factor at natural origin"]).unwrap_or(1.0);
        let fe = parameter(&lower, &["false_easting", "false easting"]).unwrap_or(0.0);
        let fn_ = parameter(&lower, &["false_northing", "false northing"]).unwrap_or(0.0);
        if (fe - 500_000.0).abs() > 1e-6 || fn_.abs() > 1e-6 {
            return None;
        }
        if (k - 0.9999).abs() < 1e-9 {
            return custom_or_epsg(cm);
        }
        if (k - 0.9996).abs() < 1e-9 {
            return match cm {
                c if (c - 105.0).abs() < 1e-9 => Some("EPSG:3405".into()),
                c if (c - 111.0).abs() < 1e-9 => Some("EPSG:3406".into()),
                _ => None,
            };
        }
        return None;
    }
    if lower.trim_start().starts_with("geogcs") || lower.trim_start().starts_with("geogcrs") {
        if vn2000 {
            return Some("EPSG:4756".into());
        }
        if lower.contains("wgs_1984") || lower.contains("wgs 84") || lower.contains("wgs84") {
            return Some("EPSG:4326".into());
        }
    }
    None
}

/// `EPSG:<code>` for a table zone, else the custom zone.
fn custom_or_epsg(cm: f64) -> Option<String> {
    let crs = Crs::vn2000_tm3(cm).ok()?;
    Some(match crs.epsg {
        Some(code) => format!("EPSG:{code}"),
        None => format!("VN2000:TM3:{cm}"),
    })
}

/// The EPSG code of the outermost object: WKT 1 puts its AUTHORITY last, WKT 2 its ID last.
fn outer_epsg(lower: &str) -> Option<u32> {
    let at = lower.rfind("authority[\"epsg\"").or_else(|| lower.rfind("id[\"epsg\""))?;
    // The outermost object's AUTHORITY closes the text: only brackets may follow its own.
    let tail = &lower[at..];
    let close = tail.find(']')?;
    if !tail[close + 1..].chars().all(|c| c == ']' || c.is_whitespace()) {
        return None;
    }
    let digits: String = tail[..close].split(',').nth(1)?.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn first_quoted(lower: &str) -> Option<String> {
    let start = lower.find('"')? + 1;
    let len = lower[start..].find('"')?;
    Some(lower[start..start + len].to_owned())
}

/// "vn-2000 / tm-3 105-30", "vn_2000_tm_3_105_30", "vn2000 tm3 10530" → 105.5.
fn tm3_name(name: &str) -> Option<f64> {
    let at = ["tm-3", "tm_3", "tm3", "tm 3"].iter().find_map(|k| name.find(k).map(|i| i + k.len()))?;
    let digits: String = name[at..].chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 5 {
        return None;
    }
    let degrees: f64 = digits[..3].parse().ok()?;
    let minutes: f64 = digits[3..].parse().ok()?;
    (minutes < 60.0).then_some(degrees + minutes / 60.0)
}

/// The value of the first of `names` given as `PARAMETER["name",value]`.
fn parameter(lower: &str, names: &[&str]) -> Option<f64> {
    names.iter().find_map(|name| {
        let key = format!("[\"{name}\",");
        let at = lower.find(&key)? + key.len();
        let end = lower[at..].find([']', ','])?;
        lower[at..at + end].trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESRI_VN2000_TM3_105: &str = r#"PROJCS["VN_2000_TM_3_105_00",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    #[test]
    fn epsg_authority_of_the_outer_object() {
        let wkt = r#"PROJCS["VN-2000 / TM-3 zone 482",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6756"]],AUTHORITY["EPSG","4756"]],PROJECTION["Transverse_Mercator"],AUTHORITY["EPSG","5897"]]"#;
        assert_eq!(crs_from_wkt(wkt).as_deref(), Some("EPSG:5897"));
        let wgs =
            r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],AUTHORITY["EPSG","4326"]]"#;
        assert_eq!(crs_from_wkt(wgs).as_deref(), Some("EPSG:4326"));
    }

    #[test]
    fn esri_names_and_parameters() {
        assert_eq!(crs_from_wkt(ESRI_VN2000_TM3_105).as_deref(), Some("EPSG:5897"));
        // A Transverse Mercator without a zone in its name, on the VN-2000 datum: by parameters.
        let unnamed = ESRI_VN2000_TM3_105.replace("VN_2000_TM_3_105_00", "Custom").replace("105.0]", "105.75]");
        assert_eq!(crs_from_wkt(&unnamed).as_deref(), Some("EPSG:9210"));
        let custom = ESRI_VN2000_TM3_105.replace("VN_2000_TM_3_105_00", "Custom").replace("105.0]", "106.75]");
        assert_eq!(crs_from_wkt(&custom).as_deref(), Some("VN2000:TM3:106.75"));
        let named = r#"PROJCS["VN-2000 / TM-3 105-30",GEOGCS["VN-2000"]]"#;
        assert_eq!(crs_from_wkt(named).as_deref(), Some("EPSG:9209"));
        let utm = ESRI_VN2000_TM3_105.replace("VN_2000_TM_3_105_00", "Custom").replace("0.9999", "0.9996");
        assert_eq!(crs_from_wkt(&utm).as_deref(), Some("EPSG:3405"));
        let geog = r#"GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]]]"#;
        assert_eq!(crs_from_wkt(geog).as_deref(), Some("EPSG:4756"));
    }

    #[test]
    fn unknown_is_none() {
        // The wrong scale factor of a "provincial TM" (brief rule 1) is not guessed into a zone.
        let wrong_k = ESRI_VN2000_TM3_105.replace("VN_2000_TM_3_105_00", "Custom").replace("0.9999", "0.9998");
        assert_eq!(crs_from_wkt(&wrong_k), None);
        let lambert = r#"PROJCS["NAD83 / Conus Albers",GEOGCS["NAD83"],PROJECTION["Albers_Conic_Equal_Area"]]"#;
        assert_eq!(crs_from_wkt(lambert), None);
        assert_eq!(crs_from_wkt("garbage"), None);
        assert_eq!(crs_from_wkt(""), None);
    }
}
