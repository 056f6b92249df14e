// geosector's map viewer (served at /map/assets/viewer.js, embedded in the binary).
//
// Reads the page's configuration (#geosector-config: language, sectors and their collections,
// declared labels, interface texts), loads every sector's style from /styles/{sector}, combines
// them into one map, fits the data extent unless the URL hash (#zoom/lat/lon) gives a view, and
// wires the layer list, the legend of a fill by code, feature info on click (the full record
// from /collections/{id}/items/{featureId}) and the declared labels such as parcel numbers
// (drawn as HTML, so no glyphs are needed). No collection is named here. No request leaves this
// server.
//
// For tests: window.geosector.ready resolves to the map once its style has loaded
// (window.geosector.map is the map as soon as it exists).
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('geosector-config').textContent);
  var texts = config.texts;
  var lang = config.lang;
  var status = document.getElementById('status');
  var TYPE_ORDER = { background: 0, fill: 1, line: 2, circle: 3, symbol: 4 };

  function pick(vi, en) { return lang === 'en' ? en : vi; }

  function element(tag, attributes, children) {
    var e = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (k) { e.setAttribute(k, attributes[k]); });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }

  // Language links keep the map view (the hash).
  document.querySelectorAll('a[data-lang]').forEach(function (a) {
    a.addEventListener('click', function (event) {
      event.preventDefault();
      var url = new URL(window.location.href);
      url.searchParams.set('lang', a.getAttribute('data-lang'));
      window.location.assign(url.toString());
    });
  });

  if (typeof maplibregl === 'undefined' || !config.maplibre) {
    status.textContent = texts.noMaplibre;
    var failed = Promise.reject(new Error(texts.noMaplibre));
    failed.catch(function () {});
    window.geosector = { ready: failed };
    return;
  }

  // One style from the sector styles: one background, then every fill, line and circle layer
  // (areas under outlines under points), keeping sector order within each kind.
  function combine(styles) {
    var sources = {};
    var layers = [];
    var bounds = null;
    styles.forEach(function (style) {
      Object.keys(style.sources).forEach(function (id) {
        var source = style.sources[id];
        sources[id] = source;
        if (source.bounds) {
          var b = source.bounds;
          bounds = bounds ? [Math.min(bounds[0], b[0]), Math.min(bounds[1], b[1]), Math.max(bounds[2], b[2]), Math.max(bounds[3], b[3])] : b.slice();
        }
      });
      style.layers.forEach(function (layer) {
        if (layer.type !== 'background' || !layers.some(function (l) { return l.type === 'background'; })) {
          layers.push(layer);
        }
      });
    });
    layers = layers.map(function (l, i) { return [l, i]; }).sort(function (a, b) {
      return (TYPE_ORDER[a[0].type] - TYPE_ORDER[b[0].type]) || (a[1] - b[1]);
    }).map(function (pair) { return pair[0]; });
    return { style: { version: 8, name: 'geosector', sources: sources, layers: layers }, bounds: bounds };
  }

  function collectionOf(layer) {
    return layer.metadata && layer.metadata['geosector:collection'];
  }

  function renderLegend(style) {
    var details = document.getElementById('legend');
    var fill = style.layers.find(function (l) { return l.metadata && l.metadata['geosector:legend']; });
    if (!fill) { details.hidden = true; return; }
    fill.metadata['geosector:legend'].forEach(function (group) {
      var line = element('div', { class: 'legend-group' }, [element('strong', {}, [pick(group.title_vi, group.title_en)]), ' ']);
      group.codes.forEach(function (pair) {
        var swatch = element('span', { class: 'swatch', style: 'background:' + pair[1] });
        line.append(element('span', { class: 'code' }, [swatch, pair[0]]));
      });
      details.append(line);
    });
  }

  function propertiesTable(properties) {
    var table = element('table');
    Object.keys(properties).forEach(function (k) {
      var v = properties[k];
      if (v === null || v === undefined) { v = ''; } else if (typeof v === 'object') { v = JSON.stringify(v); }
      table.append(element('tr', {}, [element('th', {}, [k]), element('td', {}, [String(v)])]));
    });
    return table;
  }

  function showFeature(map, feature, lngLat) {
    var collection = collectionOf(feature.layer);
    var meta = feature.layer.metadata;
    // Every feature of a tile has its id; the generalised cells of low zooms (overviews) have none.
    var generalised = feature.id === undefined || feature.id === null;
    var heading = element('h2', {}, [pick(meta['geosector:title_vi'], meta['geosector:title_en']) + (feature.id !== undefined && !generalised ? ' ' + feature.id : '')]);
    var note = element('p', { class: 'note' }, [generalised ? texts.cell : texts.fromTile]);
    var body = element('div', { class: 'popup', 'data-collection': collection, 'data-source': 'tile' }, [heading, note, propertiesTable(feature.properties)]);
    new maplibregl.Popup({ maxWidth: '24rem' }).setLngLat(lngLat).setDOMContent(body).addTo(map);
    if (feature.id === undefined || feature.id === null || generalised) { return; }
    // The tile carries what drawing needs; the record has every published property.
    var href = '/collections/' + encodeURIComponent(collection) + '/items/' + encodeURIComponent(feature.id);
    note.textContent = texts.loading;
    fetch(href + '?f=json', { headers: { Accept: 'application/geo+json' } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (record) {
        note.textContent = '';
        note.append(element('a', { href: href + '?f=html', target: '_blank' }, [texts.fullRecord]));
        body.replaceChild(propertiesTable(record.properties || {}), body.querySelector('table'));
        body.setAttribute('data-source', 'item');
      })
      .catch(function () { note.textContent = texts.fromTile; });
  }

  // Declared labels (a property per feature, from a zoom on) as HTML, one per feature (tiles
  // split a feature: its largest rendered piece carries the label).
  function drawLabels(map, style, enabled) {
    // Inside the map, over the canvas and under popups and controls.
    var box = document.getElementById('labels');
    map.getCanvasContainer().insertBefore(box, map.getCanvas().nextSibling);
    function clear() { box.replaceChildren(); }
    function draw() {
      clear();
      if (!enabled()) { return; }
      config.labels.forEach(function (label) {
        var layers = style.layers.filter(function (l) { return collectionOf(l) === label.collection; }).map(function (l) { return l.id; });
        if (map.getZoom() < label.minzoom || !layers.length || !map.getLayer(layers[0]) ||
            map.getLayoutProperty(layers[0], 'visibility') === 'none') { return; }
        var best = {};
        map.queryRenderedFeatures({ layers: layers }).forEach(function (f) {
          var text = f.properties[label.property];
          if (f.id === undefined || text === undefined || text === null || text === '') { return; }
          var g = f.geometry;
          var rings = g.type === 'Polygon' ? [g.coordinates[0]] : g.type === 'MultiPolygon' ? g.coordinates.map(function (p) { return p[0]; }) : g.type === 'Point' ? [[g.coordinates]] : [];
          rings.forEach(function (ring) {
            var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
            ring.forEach(function (c) { x0 = Math.min(x0, c[0]); y0 = Math.min(y0, c[1]); x1 = Math.max(x1, c[0]); y1 = Math.max(y1, c[1]); });
            var size = (x1 - x0) * (y1 - y0);
            if (!best[f.id] || best[f.id].size < size) {
              best[f.id] = { size: size, at: [(x0 + x1) / 2, (y0 + y1) / 2], text: String(text) };
            }
          });
        });
        Object.keys(best).forEach(function (id) {
          var p = map.project(best[id].at);
          var span = element('span', {}, [best[id].text]);
          span.style.left = p.x + 'px';
          span.style.top = p.y + 'px';
          box.append(span);
        });
      });
    }
    map.on('movestart', clear);
    map.on('idle', draw);
    return draw;
  }

  window.geosector = {};
  var ready = Promise.all(config.sectors.map(function (s) {
    return fetch('/styles/' + encodeURIComponent(s.id)).then(function (r) {
      if (!r.ok) { throw new Error(texts.styleError + ' ' + s.id + ' (' + r.status + ')'); }
      return r.json();
    });
  })).then(function (styles) {
    var combined = combine(styles);
    var options = { container: 'map', style: combined.style, hash: true, maxZoom: 22, attributionControl: { compact: true } };
    if (combined.bounds && !/^#\d/.test(window.location.hash)) {
      options.bounds = combined.bounds;
      options.fitBoundsOptions = { padding: 24, maxZoom: 17 };
    } else if (!combined.bounds) {
      options.center = [106.0, 16.0];
      options.zoom = 5;
      status.textContent = texts.noData;
    }
    var map = new maplibregl.Map(options);
    map.addControl(new maplibregl.NavigationControl(), 'top-right');
    map.addControl(new maplibregl.ScaleControl(), 'bottom-right');
    renderLegend(combined.style);
    var ours = combined.style.layers.filter(collectionOf).map(function (l) { return l.id; });

    var toggle = document.getElementById('labels-toggle');
    var labels = drawLabels(map, combined.style, function () { return !toggle || toggle.checked; });
    if (toggle) { toggle.addEventListener('change', labels); }

    document.querySelectorAll('input[data-collection]').forEach(function (box) {
      box.addEventListener('change', function () {
        var id = box.getAttribute('data-collection');
        combined.style.layers.forEach(function (l) {
          if (collectionOf(l) === id) { map.setLayoutProperty(l.id, 'visibility', box.checked ? 'visible' : 'none'); }
        });
        labels();
      });
    });

    map.on('click', function (e) {
      var hits = map.queryRenderedFeatures(e.point, { layers: ours });
      if (hits.length) { showFeature(map, hits[0], e.lngLat); }
    });
    map.on('mousemove', function (e) {
      map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers: ours }).length ? 'pointer' : '';
    });
    window.geosector.map = map;
    return new Promise(function (resolve) { map.once('load', function () { resolve(map); }); });
  });
  ready.catch(function (e) { status.textContent = String(e.message || e); });
  window.geosector.ready = ready;
})();
