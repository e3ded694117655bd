<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- QGIS style of the plan.gpkg layer "catchments" for ONE level ($level, $label_level): the
     zones of the other levels are filtered out, so the three levels never draw over each other
     (plan.gpkg holds one style per level; the first level's is the default). Zones are coloured
     by utilisation band ($util_rules, from resources/map/symbols.toml); over capacity hatched red.
     app/export/styles.py fills the $placeholders, joins the lines and drops this comment. -->
<qgis version="3.28.0" styleCategories="Symbology|Labeling|Fields|Forms">
  <renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">
    <rules key="root">
      <rule key="lv" filter="&quot;level&quot; = '$level'" label="$label_level">
        $util_rules
        <rule key="over" symbol="over" filter='"utilization" &gt; 1' label="$label_over"/>
      </rule>
    </rules>
    <symbols>
      $util_symbols
      <symbol type="fill" name="over" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="color" value="$over_line"/>
            <Option type="QString" name="style" value="b_diagonal"/>
            <Option type="QString" name="outline_color" value="$over_line"/>
            <Option type="QString" name="outline_width" value="0.6"/>
            <Option type="QString" name="outline_width_unit" value="MM"/>
            <Option type="QString" name="outline_style" value="dash"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="name" fontSize="7" fontFamily="Noto Sans CJK SC" textColor="60,60,60,255">
        <text-buffer bufferDraw="1" bufferSize="0.6" bufferColor="255,255,255,255"/>
      </text-style>
      <placement placement="1"/>
      <rendering obstacle="1" displayAll="0"/>
    </settings>
  </labeling>
  $fields
</qgis>
