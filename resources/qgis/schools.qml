<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- QGIS style of the plan.gpkg layer "schools" (app/export/styles.py fills the $placeholders,
     joins the lines and drops this comment). Schools by level: $label_* level names, $color_* / $shape_* from resources/map/symbols.toml;
     cores get a black ring, schools to merge a dark-red cross, transitional schools an amber ring (the rules add up). -->
<qgis version="3.28.0" styleCategories="Symbology|Labeling|Fields|Forms">
  <renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">
    <rules key="root">
      <rule key="p" symbol="0" filter="&quot;level&quot; = 'primary'" label="$label_primary"/>
      <rule key="j" symbol="1" filter="&quot;level&quot; = 'junior'" label="$label_junior"/>
      <rule key="s" symbol="2" filter="&quot;level&quot; = 'senior'" label="$label_senior"/>
      <rule key="c" symbol="3" filter="&quot;group_role&quot; = 'core'" label="$label_core"/>
      <rule key="m" symbol="4" filter="&quot;layout_status&quot; = 'to_merge'" label="$label_to_merge"/>
      <rule key="t" symbol="5" filter="&quot;layout_status&quot; = 'transitional'" label="$label_transitional"/>
    </rules>
    <symbols>
      <symbol type="marker" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="name" value="circle"/>
            <Option type="QString" name="color" value="0,0,0,0"/>
            <Option type="QString" name="size" value="5.2"/>
            <Option type="QString" name="size_unit" value="MM"/>
            <Option type="QString" name="outline_color" value="$core_ring"/>
            <Option type="QString" name="outline_width" value="0.5"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="4" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="name" value="cross2"/>
            <Option type="QString" name="color" value="$to_merge"/>
            <Option type="QString" name="size" value="4.5"/>
            <Option type="QString" name="size_unit" value="MM"/>
            <Option type="QString" name="outline_color" value="$to_merge"/>
            <Option type="QString" name="outline_width" value="0.6"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="5" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="name" value="circle"/>
            <Option type="QString" name="color" value="0,0,0,0"/>
            <Option type="QString" name="size" value="4.4"/>
            <Option type="QString" name="size_unit" value="MM"/>
            <Option type="QString" name="outline_color" value="$transitional"/>
            <Option type="QString" name="outline_width" value="0.45"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="name" value="$shape_primary"/>
            <Option type="QString" name="color" value="$color_primary"/>
            <Option type="QString" name="size" value="3.2"/>
            <Option type="QString" name="size_unit" value="MM"/>
            <Option type="QString" name="outline_color" value="255,255,255,255"/>
            <Option type="QString" name="outline_width" value="0.2"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="name" value="$shape_junior"/>
            <Option type="QString" name="color" value="$color_junior"/>
            <Option type="QString" name="size" value="3.2"/>
            <Option type="QString" name="size_unit" value="MM"/>
            <Option type="QString" name="outline_color" value="255,255,255,255"/>
            <Option type="QString" name="outline_width" value="0.2"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="name" value="$shape_senior"/>
            <Option type="QString" name="color" value="$color_senior"/>
            <Option type="QString" name="size" value="3.2"/>
            <Option type="QString" name="size_unit" value="MM"/>
            <Option type="QString" name="outline_color" value="255,255,255,255"/>
            <Option type="QString" name="outline_width" value="0.2"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="name" fontSize="8" fontFamily="Noto Sans CJK SC" textColor="0,0,0,255">
        <text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>
      </text-style>
      <placement placement="6" dist="1"/>
      <rendering obstacle="1" displayAll="0"/>
    </settings>
  </labeling>
  $fields
</qgis>
