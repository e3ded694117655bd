<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- QGIS style of the plan.gpkg layer "new_schools" (app/export/styles.py fills the $placeholders,
     joins the lines and drops this comment). New schools: a star in $new_color, labelled with the name. -->
<qgis version="3.28.0" styleCategories="Symbology|Labeling|Fields|Forms">
  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
      <symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="name" value="star"/>
            <Option type="QString" name="color" value="$new_color"/>
            <Option type="QString" name="size" value="5"/>
            <Option type="QString" name="size_unit" value="MM"/>
            <Option type="QString" name="outline_color" value="0,0,0,255"/>
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
