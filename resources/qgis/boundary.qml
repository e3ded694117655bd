<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- QGIS style of the plan.gpkg layer "boundary" (app/export/styles.py fills the $placeholders,
     joins the lines and drops this comment). County boundary: outline only, in $boundary. -->
<qgis version="3.28.0" styleCategories="Symbology|Labeling|Fields|Forms">
  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="color" value="255,255,255,0"/>
            <Option type="QString" name="style" value="no"/>
            <Option type="QString" name="outline_color" value="$boundary"/>
            <Option type="QString" name="outline_width" value="0.6"/>
            <Option type="QString" name="outline_width_unit" value="MM"/>
            <Option type="QString" name="outline_style" value="solid"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  $fields
</qgis>
