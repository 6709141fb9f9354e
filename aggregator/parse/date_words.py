"""Parse stage, dates: the words a date is written with (month names, weekdays, fillers)
in the languages dates.py reads. Data only: it reads no date.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _names(table: dict[int, str]) -> dict[str, int]:
    return {word: n for n, words in table.items() for word in words.split()}


# Lower case, accents as written and without them; abbreviations without their dot.
_MONTH_NAMES = _names(
    {
        1: "january jan januar jänner jän janvier janv enero ene gennaio gen janeiro"
        " januari января январь янв",
        2: "february feb februar feber février fevrier févr fevr fév fev febrero febbraio"
        " fevereiro februari февраля февраль фев февр",
        3: "march märz maerz mär mrz mars marzo março marco maart mrt марта март",
        4: "april apr avril avr abril abr aprile апреля апрель",
        5: "may mai mayo maggio mag maio mei мая май",
        6: "june jun juni juin junio giugno giu junho июня июнь июн",
        7: "july jul juli juillet juil julio luglio lug julho июля июль июл",
        8: "august aug août aout aoû agosto ago augustus августа август авг",
        9: "september sep sept septembre septiembre setiembre set settembre setembro"
        " сентября сентябрь сен сент",
        10: "october oct oktober okt octobre octubre ottobre ott outubro out октября октябрь окт",
        11: "november nov novembre noviembre novembro ноября ноябрь ноя нояб",
        12: "december dec dezember dez décembre decembre déc diciembre dic dicembre"
        " dezembro декабря декабрь дек",
    }
)
_AMBIGUOUS = {"mar": 3}
_WEEKDAYS = _words(
    "monday mon tuesday tue tues wednesday wed thursday thu thur thurs friday fri"
    " saturday sat sunday sun"
    " montag mo dienstag di mittwoch mi donnerstag do freitag fr samstag sonnabend sa"
    " sonntag so"
    " lundi lun mardi mercredi mer jeudi jeu vendredi ven samedi sam dimanche dim"
    " lunes martes miércoles miercoles mié mie jueves jue viernes vie sábado sabado sáb"
    " sab domingo dom"
    " lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi gio venerdì"
    " venerdi sabato domenica"
    " segunda terça terca quarta quinta sexta seg ter qua qui sex"
    " maandag ma dinsdag woensdag wo donderdag vrijdag vr zaterdag za zondag zo"
    " понедельник вторник среда четверг пятница суббота воскресенье пн вт ср чт пт сб вс"
)
# Words that join the parts of a date and change nothing ("16 de octubre de 2023 a las").
_FILLERS = _words(
    "at of on the t am um uhr den der le à a h de del las la el às as alle ore il om uur"
    " op feira em в г года год"
    " st nd rd th er re e o"  # ordinals: 16th, 1er, 1º (NFKC: 1o)
)
