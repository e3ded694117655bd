{# The script that draws the plan map from one JSON payload (D); a Jinja template rendered by
   app/export/mapbuilder.PlanLayers: {{ this.payload }} is the payload, {{ this.* }} colours.
   It exposes window.schoolplanMap and window.schoolplan for the GUI (see mapbuilder). -#}
(function () {
  var map = {{ this._parent.get_name() }};
  var D = {{ this.payload }};
  var sp = { map: map, data: D, layers: {}, overlays: {}, markers: {}, zones: {}, radius: {},
             counts: { schools: 0, zones: 0, links: 0, unserved: 0 } };
  window.schoolplanMap = map;
  window.schoolplan = sp;
  var T = D.t;
  var HATCH = "sp-hatch-over";
  if (!document.getElementById(HATCH)) {
    // A 0×0 SVG (not display:none, which would disable the pattern) holds the hatch pattern.
    document.body.insertAdjacentHTML("beforeend",
      "<svg id='sp-defs' width='0' height='0' style='position:absolute' aria-hidden='true'><defs>" +
      "<pattern id='" + HATCH + "' patternUnits='userSpaceOnUse' width='7' height='7' patternTransform='rotate(45)'>" +
      "<line x1='0' y1='0' x2='0' y2='7' stroke='{{ this.over_color }}' stroke-width='2.2' stroke-opacity='0.85'/>" +
      "</pattern></defs></svg>");
  }
  function shapePath(shape, s) {
    var h = s / 2;
    if (shape === "square") return "<rect x='1.5' y='1.5' width='" + (s - 3) + "' height='" + (s - 3) + "'";
    if (shape === "triangle") return "<polygon points='" + h + ",1 " + (s - 1) + "," + (s - 1) + " 1," + (s - 1) + "'";
    if (shape === "star") {
      var pts = [], i, r;
      for (i = 0; i < 10; i++) { r = i % 2 ? h * 0.45 : h - 1;
        pts.push((h + r * Math.sin(Math.PI * i / 5)).toFixed(1) + "," + (h - r * Math.cos(Math.PI * i / 5)).toFixed(1)); }
      return "<polygon points='" + pts.join(" ") + "'";
    }
    return "<circle cx='" + h + "' cy='" + h + "' r='" + (h - 1.5) + "'";
  }
  function icon(s) {
    var size = s.size + (s.core ? 8 : 0), o = s.core ? 4 : 0;
    var merge = s.status === "to_merge", trans = s.status === "transitional";
    var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='" + size + "' height='" + size + "'>";
    if (s.core) svg += "<circle cx='" + size / 2 + "' cy='" + size / 2 + "' r='" + (size / 2 - 1) +
      "' fill='none' stroke='{{ this.core_ring }}' stroke-width='2'/>";
    // 撤并: the symbol greyed under a dark-red cross; 过渡: an amber ring around it.
    svg += "<g transform='translate(" + o + "," + o + ")'>" + shapePath(s.shape, s.size) +
      " fill='" + (merge ? "#bdbdbd" : s.color) + "' fill-opacity='0.9' stroke='" +
      (s.shape === "star" ? "#000000" : "#ffffff") + "' stroke-width='" + (s.shape === "star" ? 1.4 : 1.2) + "'/>";
    if (trans) svg += "<circle cx='" + s.size / 2 + "' cy='" + s.size / 2 + "' r='" + (s.size / 2 + 1) +
      "' fill='none' stroke='" + D.decision.transitional + "' stroke-width='2.2'/>";
    if (merge) svg += "<path d='M1 1L" + (s.size - 1) + " " + (s.size - 1) + "M" + (s.size - 1) + " 1L1 " +
      (s.size - 1) + "' stroke='" + D.decision.merge + "' stroke-width='3'/>";
    svg += "</g></svg>";
    var cls = "sp-school sp-" + s.lv + (s.core ? " sp-core" : "") + (s.shape === "star" ? " sp-new" : "") +
      (merge ? " sp-merge" : "") + (trans ? " sp-transitional" : "");
    return L.divIcon({ className: cls, html: svg, iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
  }
  function overlay(key, name, layer, show) {
    sp.layers[key] = layer; sp.overlays[name] = layer;
    if (show) layer.addTo(map);
  }
  // Own panes keep the stacking fixed whatever order layers are switched on in.
  [["spRoads", 405], ["spTownships", 410], ["spLinks", 420], ["spBoundary", 430], ["spUnserved", 440]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = p[1]; });
  map.getPane("spBoundary").style.pointerEvents = "none";
  map.getPane("spTownships").style.pointerEvents = "none";
  if (map.attributionControl) map.attributionControl.setPrefix(false);
  if (D.roads.length) {
    var rd = L.layerGroup();
    D.roads.slice().reverse().forEach(function (b) {
      L.geoJSON(b.data, { interactive: false, className: "sp-road", pane: "spRoads",
        style: { color: b.color, weight: b.weight, opacity: 0.8 } }).addTo(rd); });
    overlay("roads", T.roads, rd, true);
  }
  if (D.townships) {  // township borders: thin dash-dot grey, above the zones, under the names
    var tb = L.geoJSON(D.townships.data, { interactive: false, className: "sp-township", pane: "spTownships",
      style: { color: D.townships.color, weight: D.townships.weight, dashArray: D.townships.dash,
               opacity: 0.9, fill: false } });
    overlay("townships", D.townships.name, tb, true);
  }
  if (D.towns.length) {
    var tw = L.layerGroup();
    D.towns.forEach(function (p) {
      L.tooltip({ permanent: true, direction: "center", className: "sp-town", interactive: false })
        .setLatLng([p.lat, p.lng]).setContent(p.name).addTo(tw); });
    overlay("towns", T.towns, tw, true);
  }
  if (D.villages.length) {
    // Village names only when zoomed in to a township: at county scale they would cover the map.
    var vl = L.layerGroup();
    D.villages.forEach(function (p) {
      L.tooltip({ permanent: true, direction: "bottom", className: "sp-village", interactive: false })
        .setLatLng([p.lat, p.lng]).setContent(p.name).addTo(vl); });
    sp.layers.villages = vl; sp.overlays[T.villages] = vl;
    var wanted = true;
    map.on("overlayadd", function (e) { if (e.layer === vl) wanted = true; });
    map.on("overlayremove", function (e) { if (e.layer === vl) wanted = false; });
    var showVillages = function () {
      var on = map.getZoom() >= D.villageZoom;
      if (on && wanted && !map.hasLayer(vl)) { vl.addTo(map); }
      if (!on && map.hasLayer(vl)) { map.removeLayer(vl); wanted = true; }
    };
    map.on("zoomend", showVillages);
    sp.showVillages = showVillages;
  }
  L.geoJSON(D.boundary, { interactive: false, className: "sp-boundary", pane: "spBoundary",
    style: { color: "{{ this.boundary_color }}", weight: 2.5, fill: false } }).addTo(map);
  // One payload's layers; sp.replace draws another payload in the same page (the window's
  // edits), without reloading it. Roads, township borders and names and village names above
  // are drawn once.
  function draw(D) {
    var schoolLayers = {};
    D.schools.forEach(function (s) {
      var g = schoolLayers[s.lv] || (schoolLayers[s.lv] = L.layerGroup());
      var m = L.marker([s.lat, s.lng], { icon: icon(s), schoolId: s.id, level: s.lv, layoutStatus: s.status,
        groupRole: s.role, riseOnHover: true, keyboard: false });
      // A new school is labelled on the map itself; the others name themselves on hover.
      if (s.label) m.bindTooltip(s.label, { permanent: true, direction: "right", className: "sp-new-label",
                                            offset: [s.size / 2, 0] });
      else m.bindTooltip(s.tip, { direction: "top", offset: [0, -s.size / 2] });
      m.bindPopup(s.popup);
      m.addTo(g);
      sp.markers[s.lv + "|" + s.id] = m; sp.counts.schools += 1;
    });
    D.levels.forEach(function (lv, k) {
      var N = D.layerNames[lv];
      if (schoolLayers[lv]) overlay("schools_" + lv, N.schools, schoolLayers[lv], true);
      if (D.zones[lv]) {
        var over = [];
        var zl = L.geoJSON(D.zones[lv], { className: "sp-zone sp-zone-" + lv,
          style: function (f) { var p = f.properties;
            return p.over ? { color: "{{ this.over_color }}", weight: 3, dashArray: "8 5", fillColor: p.color, fillOpacity: 0.55 }
                          : { color: "#555555", weight: 1, fillColor: p.color, fillOpacity: 0.45 }; },
          onEachFeature: function (f, layer) {
            layer.options.schoolId = f.properties.id; layer.options.level = lv;
            layer.bindTooltip(f.properties.tip, { sticky: true }); layer.bindPopup(f.properties.popup);
            sp.zones[lv + "|" + f.properties.id] = layer; sp.counts.zones += 1;
            if (f.properties.over) over.push(f); } });
        // Over capacity: the zone's own colour stays, a red hatch (SVG pattern in this page) on top.
        if (over.length) zl.addLayer(L.geoJSON({ type: "FeatureCollection", features: over }, {
          className: "sp-hatch sp-hatch-" + lv, interactive: false,
          style: { stroke: false, fill: true, fillColor: "url(#" + HATCH + ")", fillOpacity: 1 } }));
        overlay("zones_" + lv, N.zones, zl, k === 0);
        // The same zones coloured by utilisation band: a choice beside "by school".
        var zu = L.geoJSON(D.zones[lv], { className: "sp-zone-util sp-zone-util-" + lv,
          style: function (f) { return { color: "#555555", weight: 1, fillColor: f.properties.ucolor, fillOpacity: 0.6 }; },
          onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.tip, { sticky: true });
            layer.bindPopup(f.properties.popup); } });
        overlay("zones_util_" + lv, N.zonesUtil, zu, false);
      }
      if (D.links[lv]) {
        var ll = L.geoJSON(D.links[lv], { className: "sp-link sp-link-" + lv, pane: "spLinks",
          style: { color: D.levelColor[lv], weight: 2, opacity: 0.85, dashArray: "6 4" },
          onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.tip, { sticky: true });
            layer.bindPopup(f.properties.popup); sp.counts.links += 1; } });
        overlay("links_" + lv, N.links, ll, true);
      }
      if (D.unserved[lv]) {
        var ul = L.layerGroup();
        D.unserved[lv].forEach(function (u) {
          L.circleMarker([u.lat, u.lng], { radius: 3.5, className: "sp-unserved", pane: "spUnserved", color: D.unservedColor[u.st],
            weight: 1, fillOpacity: 0.9 }).bindTooltip(u.tip).addTo(ul);
          sp.counts.unserved += 1; });
        overlay("unserved_" + lv, N.unserved, ul, k === 0);
      }
    });
    if (D.radius.length) {
      var rl = L.layerGroup();
      D.radius.forEach(function (c) {
        var circle = L.circle([c.lat, c.lng], { radius: c.r, className: "sp-radius", pane: "spLinks", color: D.levelColor[c.lv],
          weight: 1.5, dashArray: "3 5", fill: false, interactive: false });
        circle.addTo(rl); sp.radius[c.lv + "|" + c.id] = circle;
        var m = sp.markers[c.lv + "|" + c.id];
        if (m) m.on("click", function () { if (map.hasLayer(circle)) map.removeLayer(circle); else circle.addTo(map); });
      });
      overlay("radius", T.radius, rl, false);
    }
  }
  draw(D);
  var title = L.control({ position: "topleft" });
  title.onAdd = function () { var d = sp.titleDiv = L.DomUtil.create("div", "sp-title"); d.innerHTML = D.titleHtml;
    L.DomEvent.disableClickPropagation(d); return d; };
  title.addTo(map);
  // The legend sits bottom-left above the scale, the layer list alone on the right: on a
  // 1400 x 900 screen the two no longer meet, and the county is fitted between them.
  L.control.scale({ imperial: false, metric: true, maxWidth: 160, position: "bottomleft" }).addTo(map);
  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () { var d = sp.legendDiv = L.DomUtil.create("div", "sp-legend"); d.innerHTML = D.legendHtml; return d; };
  legend.addTo(map);
  sp.control = L.control.layers({}, sp.overlays, { collapsed: D.collapsed, position: "topright" }).addTo(map);
  if (D.bounds) {
    var padL = sp.legendDiv.offsetWidth + 20, padR = sp.control.getContainer().offsetWidth + 20;
    // A map too narrow for both panels (or not laid out yet) takes the whole width.
    if (map.getSize().x > padL + padR + 200)
      map.fitBounds(D.bounds, { paddingTopLeft: [padL, 10], paddingBottomRight: [padR, 10] });
    else map.fitBounds(D.bounds);
  }
  var STATIC = { roads: true, townships: true, towns: true, villages: true };
  sp.replace = function (D2) {  // layers as they were switched on or off stay so
    var shown = {}, kept = {}, keptOverlays = {};
    Object.keys(sp.layers).forEach(function (k) {
      if (STATIC[k]) { kept[k] = sp.layers[k]; return; }
      shown[k] = map.hasLayer(sp.layers[k]); map.removeLayer(sp.layers[k]); });
    Object.keys(sp.overlays).forEach(function (n) {
      Object.keys(kept).forEach(function (k) { if (kept[k] === sp.overlays[n]) keptOverlays[n] = kept[k]; }); });
    sp.layers = kept; sp.overlays = keptOverlays; sp.markers = {}; sp.zones = {}; sp.radius = {};
    sp.counts = { schools: 0, zones: 0, links: 0, unserved: 0 };
    sp.data = D2;
    draw(D2);
    Object.keys(sp.layers).forEach(function (k) {
      if (!(k in shown)) return;
      if (shown[k] && !map.hasLayer(sp.layers[k])) sp.layers[k].addTo(map);
      if (!shown[k] && map.hasLayer(sp.layers[k])) map.removeLayer(sp.layers[k]); });
    sp.titleDiv.innerHTML = D2.titleHtml; sp.legendDiv.innerHTML = D2.legendHtml;
    map.removeControl(sp.control);
    sp.control = L.control.layers({}, sp.overlays, { collapsed: D2.collapsed, position: "topright" }).addTo(map);
    return sp.counts;
  };
  if (sp.showVillages) sp.showVillages();
  sp.ready = true;
})();
