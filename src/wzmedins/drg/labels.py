"""Chinese labels for DRG case types and table columns (CLI output and ``labels="zh"`` tables).

Examples
--------
>>> CASE_TYPE_ZH["high"], COLUMN_ZH["point_value"]
('高倍率', '点值(元/点)')
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import PolicyError

CASE_TYPE_ZH = {
    "normal": "正常倍率",
    "low": "低倍率",
    "high": "高倍率",
    "partial": "低倍率区间(0.4–0.8)",
    "unstable": "非稳定病组",
    "per_diem": "床日付费",
    "ungroupable": "无法入组",
    "ambiguous": "歧义组",
    "special": "特病单议",
    "incomplete": "未完成治疗",
}
FUND_ZH = {"employee": "职工", "resident": "居民", "all": "合并"}
COLUMN_ZH = {
    "scenario": "方案",
    "month": "月份",
    "hospital_id": "医院",
    "fund": "基金",
    "drg_code": "DRG编码",
    "name": "名称",
    "case_id": "病例号",
    "case_type": "病例类型",
    "cases": "病例数",
    "base_points": "基准点数",
    "points": "点数",
    "coefficient": "差异系数",
    "coefficient_source": "系数来源",
    "standard_cost": "标准费用(分)",
    "cost": "总费用(分)",
    "total_cost": "总费用(分)",
    "patient_paid": "个人负担(分)",
    "fund_ffs": "按项目统筹支付(分)",
    "budget": "预算(分)",
    "reserve": "调剂金(分)",
    "pool": "可分配总额(分)",
    "point_value": "点值(元/点)",
    "money": "点数金额(分)",
    "fund_due": "统筹应付(分)",
    "prepaid": "月度预付(分)",
    "reserve_share": "调剂金分担(分)",
    "balance": "清算差额(分)",
    "cmi": "CMI",
    "value": "病例价值(分)",
    "gain": "盈亏(分)",
    "mean_gain": "例均盈亏(分)",
    "readmission": "再入院",
}


def label(table: pa.Table, labels: str | None) -> pa.Table:
    """``labels=None`` or ``"en"``: the table as it is; ``"zh"``: Chinese column names, and
    case types and funds in Chinese (the values of ``case_type`` and ``fund`` columns).

    Examples
    --------
    >>> t = pa.table({"fund": ["resident"], "case_type": ["high"], "cases": [3]})
    >>> label(t, "zh").to_pylist()
    [{'基金': '居民', '病例类型': '高倍率', '病例数': 3}]
    """
    if labels in (None, "en"):
        return table
    if labels != "zh":
        raise PolicyError(f"labels: {labels!r} is not allowed; expected 'en' or 'zh'")
    for col, mapping in (("case_type", CASE_TYPE_ZH), ("fund", FUND_ZH)):
        if col in table.column_names:
            values = table.column(col).cast(pa.string())
            keys = pa.array(list(mapping))
            idx = pc.index_in(values, value_set=keys)
            zh = pa.array(list(mapping.values())).take(idx)
            table = table.set_column(table.column_names.index(col), col, pc.coalesce(zh, values))
    names = [COLUMN_ZH.get(n, n) for n in table.column_names]
    return table.rename_columns(names)
