//! OGC API - Features - Part 2: Coordinate Reference Systems by Reference (OGC 18-058r1), on the
//! HTTP side: the `crs` and `bbox-crs` parameters, the `Content-Crs` header, and the CRS lists
//! of collections and of the OpenAPI document.
//!
//! The CRSs are those of `geosector-crs`'s table (CRS84 first, the default); the SQL that
//! writes geometries in them is the store's (`geosector_store::reproject`). A bbox in a CRS
//! other than CRS84 or EPSG:4326 is densified (32 points a side) and transformed here, by the
//! same crate and rule as ingestion (EPSG:6960 for VN-2000), into one lon/lat polygon; the
//! database then intersects it with the stored geometries.
//!
//! HTML pages always draw in CRS84: `crs` is accepted there (and kept in links) but does not
//! change the preview.

use geosector_crs::{ApiCrs, Crs, Transformer};
use geosector_store::plan::{BboxFilter, OutputCrs};
use geosector_store::reproject::polygon_wkb;
use geosector_store::Collection;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::params::{self, Format};

/// The conformance class of OGC API - Features Part 2.
pub const CONFORMANCE: &str = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs";

/// Points per side of a bbox rectangle transformed out of its CRS (its sides are curves in
/// lon/lat).
const DENSIFY: u32 = 32;

/// The CRSs a collection offers: every CRS of the table when it has geometry, CRS84 alone
/// otherwise.
pub fn offered(collection: &Collection) -> Vec<ApiCrs> {
    if collection.has_geometry() {
        ApiCrs::supported().collect()
    } else {
        vec![ApiCrs::Crs84]
    }
}

/// The URIs of every CRS the server offers (the global `crs` list of `/collections`).
pub fn all_uris() -> Vec<String> {
    ApiCrs::supported().map(|c| c.uri()).collect()
}

/// The `crs` list and `storageCrs` of a collection's description.
pub fn collection_members(collection: &Collection) -> (Value, Option<Value>) {
    let list: Vec<String> = offered(collection).iter().map(ApiCrs::uri).collect();
    // Stored coordinates are EPSG:4326 in longitude, latitude order: exactly CRS84, which is
    // what a client gets without any transformation (EPSG:4326 would need an axis swap).
    let storage = collection.has_geometry().then(|| json!(ApiCrs::Crs84.uri()));
    (json!(list), storage)
}

/// Reads the `crs` or `bbox-crs` parameter of a collection; CRS84 when absent.
///
/// # Errors
/// 400 naming the parameter when the CRS is not understood or not offered by the collection.
pub fn parse(param: &str, value: Option<&str>, collection: &Collection) -> Result<ApiCrs, ApiError> {
    let Some(value) = value else { return Ok(ApiCrs::Crs84) };
    let crs = ApiCrs::parse(value).map_err(|e| ApiError::param(param, e.to_string()))?;
    if !offered(collection).contains(&crs) {
        return Err(ApiError::param(
            param,
            format!("{} is not offered by {} (it has no geometry)", crs, collection.id()),
        ));
    }
    Ok(crs)
}

/// The `Content-Crs` header value: the URI in angle brackets.
pub fn content_crs(crs: ApiCrs) -> String {
    format!("<{}>", crs.uri())
}

/// Reads a bbox given in `crs` (4 or 6 numbers in that CRS's axis order).
///
/// # Errors
/// Why the text is not a usable bbox in that CRS.
pub fn bbox(text: &str, crs: ApiCrs) -> Result<BboxFilter, String> {
    if crs == ApiCrs::Crs84 {
        return params::parse_bbox(text).map(BboxFilter::Envelopes);
    }
    let (a0, b0, a1, b1) = params::bbox_corners(text)?;
    // x = east, y = north from here on.
    let (x0, y0, x1, y1) = if crs.swaps_axes() { (b0, a0, b1, a1) } else { (a0, b0, a1, b1) };
    if crs.is_storage_datum() {
        // EPSG:4326: the CRS84 rules (ranges, antimeridian) once the axes are in lon/lat order.
        return params::parse_bbox(&format!("{x0},{y0},{x1},{y1}")).map(BboxFilter::Envelopes);
    }
    let (first, second) = if crs.swaps_axes() { ("latitude", "longitude") } else { ("easting", "northing") };
    if x0 >= x1 {
        return Err(format!(
            "the lower {} is not below the upper one in {crs}",
            if crs.swaps_axes() { second } else { first }
        ));
    }
    if y0 >= y1 {
        return Err(format!(
            "the lower {} is not below the upper one in {crs}",
            if crs.swaps_axes() { first } else { second }
        ));
    }
    let transformer = Transformer::new(&crs.crs(), &Crs::wgs84()).map_err(|e| e.to_string())?;
    let step = |from: f64, to: f64, i: u32| from + (to - from) * f64::from(i) / f64::from(DENSIFY);
    let mut ring = Vec::new();
    for i in 0..DENSIFY {
        ring.push((step(x0, x1, i), y0));
    }
    for i in 0..DENSIFY {
        ring.push((x1, step(y0, y1, i)));
    }
    for i in 0..DENSIFY {
        ring.push((step(x1, x0, i), y1));
    }
    for i in 0..DENSIFY {
        ring.push((x0, step(y1, y0, i)));
    }
    let lonlat = ring
        .into_iter()
        .map(|(x, y)| {
            transformer
                .coord(geo_types::Coord { x, y })
                .map(|c| (c.x, c.y))
                .map_err(|_| format!("({x}, {y}) lies outside the domain of {crs}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BboxFilter::Polygon(polygon_wkb(&lonlat)))
}

/// How the store writes geometries in a CRS: transformed to its rule SRID unless it is the
/// storage datum, axes swapped when it is north first.
pub fn output(crs: ApiCrs) -> OutputCrs {
    OutputCrs { rule_srid: (!crs.is_storage_datum()).then(|| crs.def().rule_srid()), flip: crs.swaps_axes() }
}

/// The parameters of a single feature: `f` and `crs`.
///
/// # Errors
/// 400 naming any other parameter, a repeated one, a bad `f` or an unsupported `crs`.
pub fn feature_params(req: &actix_web::HttpRequest, collection: &Collection) -> Result<(Format, ApiCrs), ApiError> {
    let pairs = params::query_pairs(req)?;
    let versioned = collection.plan.is_versioned();
    params::check_names(
        &pairs,
        |n| n == "f" || n == "crs" || (versioned && n == "datetime"),
        || {
            let also = if versioned { ", crs and datetime" } else { " and crs" };
            format!("unknown parameter; a feature accepts only f{also}")
        },
    )?;
    let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let accept = req.headers().get(actix_web::http::header::ACCEPT).and_then(|v| v.to_str().ok());
    Ok((params::format(get("f"), accept)?, parse("crs", get("crs"), collection)?))
}

/// The OpenAPI parameter `crs` of a collection's items and features.
pub fn openapi_crs_parameter(collection: &Collection) -> Value {
    let uris: Vec<String> = offered(collection).iter().map(ApiCrs::uri).collect();
    json!({
        "name": "crs", "in": "query", "required": false, "style": "form", "explode": false,
        "schema": { "type": "string", "format": "uri", "enum": uris, "default": ApiCrs::Crs84.uri() },
        "description": "CRS of the returned coordinates (OGC API - Features Part 2), in its EPSG axis order: EPSG:4326 and EPSG:4756 are latitude first, the projected CRSs easting first. Default CRS84 (longitude, latitude). Also accepted as a safe CURIE such as [EPSG:5897]."
    })
}

/// The OpenAPI parameter `bbox-crs` of a collection's items, when it has geometry.
pub fn openapi_bbox_crs_parameter(collection: &Collection) -> Option<Value> {
    let uris: Vec<String> = offered(collection).iter().map(ApiCrs::uri).collect();
    collection.has_geometry().then(|| {
        json!({
            "name": "bbox-crs", "in": "query", "required": false, "style": "form", "explode": false,
            "schema": { "type": "string", "format": "uri", "enum": uris, "default": ApiCrs::Crs84.uri() },
            "description": "CRS of the bbox parameter, in its EPSG axis order (default CRS84)"
        })
    })
}

/// The OpenAPI description of the `Content-Crs` response header.
pub fn openapi_content_crs_header() -> Value {
    json!({ "Content-Crs": { "description": "The CRS of the coordinates of the response, as a URI in angle brackets", "schema": { "type": "string" } } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polygon(b: BboxFilter) -> Vec<(f64, f64)> {
        let BboxFilter::Polygon(wkb) = b else { panic!("not a polygon: {b:?}") };
        wkb[13..]
            .chunks(16)
            .map(|c| {
                let x = f64::from_le_bytes(c[..8].try_into().unwrap());
                let y = f64::from_le_bytes(c[8..].try_into().unwrap());
                (x, y)
            })
            .collect()
    }

    #[test]
    fn crs84_and_epsg_4326_bboxes_are_envelopes_in_lon_lat() {
        assert_eq!(
            bbox("105,20,106,21", ApiCrs::Crs84).unwrap(),
            BboxFilter::Envelopes(vec![[105.0, 20.0, 106.0, 21.0]])
        );
        assert_eq!(
            bbox("20,105,21,106", ApiCrs::Epsg(4326)).unwrap(),
            BboxFilter::Envelopes(vec![[105.0, 20.0, 106.0, 21.0]]),
            "EPSG:4326 is lat/lon"
        );
        assert_eq!(
            bbox("20,105,0,21,106,10", ApiCrs::Epsg(4326)).unwrap(),
            BboxFilter::Envelopes(vec![[105.0, 20.0, 106.0, 21.0]])
        );
        assert!(
            bbox("105,20,106,21", ApiCrs::Epsg(4326)).unwrap_err().contains("latitudes"),
            "lon/lat given as lat/lon"
        );
    }

    #[test]
    fn projected_bboxes_become_densified_lon_lat_polygons() {
        let ring = polygon(bbox("580000,2320000,590000,2330000", ApiCrs::Epsg(5897)).unwrap());
        assert_eq!(ring.len(), 4 * 32 + 1);
        assert_eq!(ring.first(), ring.last());
        for (lon, lat) in &ring {
            assert!((105.7..105.9).contains(lon) && (20.9..21.1).contains(lat), "{lon},{lat}");
        }
        let geographic = polygon(bbox("21.0,105.8,21.1,105.9", ApiCrs::Epsg(4756)).unwrap());
        let (lon, lat) = geographic[0];
        // VN-2000 → WGS 84 moves Hà Nội by a few arcseconds (dλ ≈ +6.8″, dφ ≈ −3.6″).
        assert!((lon - 105.8).abs() < 0.01 && (lat - 21.0).abs() < 0.01 && lon != 105.8, "{lon},{lat}");
    }

    #[test]
    fn bad_bboxes_say_why() {
        assert!(bbox("590000,2320000,580000,2330000", ApiCrs::Epsg(5897)).unwrap_err().contains("easting"));
        assert!(bbox("580000,2330000,590000,2320000", ApiCrs::Epsg(5897)).unwrap_err().contains("northing"));
        assert!(bbox("1,2,3", ApiCrs::Epsg(5897)).unwrap_err().contains("got 3"));
        assert!(bbox("1,2,x,4", ApiCrs::Epsg(3857)).unwrap_err().contains("not a number"));
        assert!(bbox("1e308,0,inf,1", ApiCrs::Epsg(5897)).is_err());
    }

    #[test]
    fn outputs() {
        assert_eq!(output(ApiCrs::Crs84), OutputCrs::STORED);
        assert_eq!(output(ApiCrs::Epsg(4326)), OutputCrs { rule_srid: None, flip: true });
        assert_eq!(output(ApiCrs::Epsg(4756)), OutputCrs { rule_srid: Some(904_756), flip: true });
        assert_eq!(output(ApiCrs::Epsg(5897)), OutputCrs { rule_srid: Some(905_897), flip: false });
        assert_eq!(content_crs(ApiCrs::Epsg(5897)), "<http://www.opengis.net/def/crs/EPSG/0/5897>");
    }
}
