<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- QGIS style of the plan.gpkg layer "townships" ($label_townships): no fill, a thin dash-dot
     grey outline ($township, resources/map/symbols.toml [township]), labelled by name. Not a
     label obstacle: the townships cover the county, like the zones.
     app/export/styles.py fills the $placeholders, joins the lines and drops this comment. -->
<qgis version="3.28.0" styleCategories="Symbology|Labeling|Fields|Forms">
  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="line_color" value="$township"/>
            <Option type="QString" name="line_width" value="$township_width"/>
            <Option type="QString" name="line_width_unit" value="Point"/>
            <Option type="QString" name="line_style" value="dash dot"/>
            <Option type="QString" name="use_custom_dash" value="1"/>
            <Option type="QString" name="customdash" value="$township_dash"/>
            <Option type="QString" name="customdash_unit" value="Point"/>
            <Option type="QString" name="capstyle" value="flat"/>
            <Option type="QString" name="joinstyle" value="round"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="name" fontSize="9" fontWeight="75" fontFamily="Noto Sans CJK SC" textColor="$town_label">
        <text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,200"/>
      </text-style>
      <placement placement="1"/>
      <rendering obstacle="0" displayAll="0"/>
    </settings>
  </labeling>
  $fields
</qgis>
