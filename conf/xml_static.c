/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "conf/xml.h"

extern const struct conf_xml_ops lv_conf_xml_ops;

const struct conf_xml_ops *conf_xml(struct lv_error **err)
{
        return &lv_conf_xml_ops;
}

void conf_xml_unload(void)
{
}
