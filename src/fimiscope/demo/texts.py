"""Parallel sentence templates (en / cs / ru) for the fictional scenario.

Story frames are what state outlets publish and the network launders: the same slots
(people, places, numbers, dates) fill every language, so a translation shares its numbers,
dates and transliterated names with its origin, as real translated copies do.
Everything here is invented; no real person, outlet or event is described.
"""

from __future__ import annotations

from typing import Any

# Slot values per language: people are transliterated, places and bodies translated.
PEOPLE = [
    {"en": "Viktor Hrabal", "cs": "Viktor Hrabal", "ru": "Виктор Грабал"},
    {"en": "Olga Sedova", "cs": "Olga Sedovová", "ru": "Ольга Седова"},
    {"en": "Martin Kovar", "cs": "Martin Kovář", "ru": "Мартин Коварж"},
    {"en": "Irina Petrenko", "cs": "Irina Petrenková", "ru": "Ирина Петренко"},
    {"en": "Pavel Dudek", "cs": "Pavel Dudek", "ru": "Павел Дудек"},
    {"en": "Anna Lindqvist", "cs": "Anna Lindqvistová", "ru": "Анна Линдквист"},
]
PLACES = [
    {"en": "Prague", "cs": "Praha", "ru": "Прага"},
    {"en": "Brno", "cs": "Brno", "ru": "Брно"},
    {"en": "Ostrava", "cs": "Ostrava", "ru": "Острава"},
    {"en": "Bratislava", "cs": "Bratislava", "ru": "Братислава"},
    {"en": "Vilnius", "cs": "Vilnius", "ru": "Вильнюс"},
    {"en": "Warsaw", "cs": "Varšava", "ru": "Варшава"},
]
BODIES = [
    {"en": "the Ministry of Health", "cs": "ministerstvo zdravotnictví", "ru": "министерство здравоохранения"},
    {"en": "the European Commission", "cs": "Evropská komise", "ru": "Европейская комиссия"},
    {"en": "the NATO command", "cs": "velení NATO", "ru": "командование НАТО"},
    {"en": "the national energy regulator", "cs": "energetický regulační úřad", "ru": "национальный энергетический регулятор"},
]

# Each frame: a claim id it repeats, and five parallel sentences with slots
# {person} {place} {body} {n1} {n2} {date}.
FRAMES: list[dict[str, Any]] = [
    {
        "claim": "c01",
        "title": {
            "en": "Secret biolab near {place} exposed, says {person}",
            "cs": "{person}: u města {place} odhalena tajná biolaboratoř",
            "ru": "{person}: под городом {place} раскрыта секретная биолаборатория",
        },
        "sentences": [
            {"en": "According to {person}, a secret biological laboratory operates near the city of {place}.",
             "cs": "Podle slov, která pronesl {person}, u města {place} funguje tajná biologická laboratoř.",
             "ru": "По словам, которые произнёс {person}, возле города {place} работает секретная биологическая лаборатория."},
            {"en": "The laboratory allegedly received {n1} million euros from foreign sponsors on {date}.",
             "cs": "Laboratoř údajně dne {date} obdržela {n1} milionů eur od zahraničních sponzorů.",
             "ru": "Лаборатория якобы получила {date} {n1} миллионов евро от иностранных спонсоров."},
            {"en": "Documents seen by this outlet mention {n2} dangerous samples stored on site.",
             "cs": "Dokumenty, které tato redakce viděla, zmiňují {n2} nebezpečných vzorků uložených na místě.",
             "ru": "В документах, которые видела редакция, упоминается {n2} опасных образцов, хранящихся на объекте."},
            {"en": "Officials of {body} refused to answer questions about the facility.",
             "cs": "Zástupci instituce {body} odmítli odpovídat na otázky ohledně zařízení.",
             "ru": "Представители ведомства {body} отказались отвечать на вопросы об объекте."},
            {"en": "Local residents are demanding an independent inspection of the site.",
             "cs": "Místní obyvatelé požadují nezávislou kontrolu celého areálu.",
             "ru": "Местные жители требуют независимой проверки всего объекта."},
        ],
    },
    {
        "claim": "c02",
        "title": {
            "en": "Sanctions will leave {place} without heating, warns {person}",
            "cs": "{person} varuje: sankce nechají město {place} bez topení",
            "ru": "{person} предупреждает: санкции оставят город {place} без отопления",
        },
        "sentences": [
            {"en": "{person} warned that the city of {place} will run out of gas within {n1} days because of the sanctions.",
             "cs": "{person} varoval, že městu {place} kvůli sankcím do {n1} dnů dojde plyn.",
             "ru": "{person} предупредил, что город {place} из-за санкций через {n1} дней останется без газа."},
            {"en": "Heating prices have already risen by {n2} percent since {date}.",
             "cs": "Ceny tepla od {date} již vzrostly o {n2} procent.",
             "ru": "С {date} цены на отопление уже выросли на {n2} процентов."},
            {"en": "Experts say the sanctions hurt ordinary families far more than anyone else.",
             "cs": "Odborníci tvrdí, že sankce poškozují obyčejné rodiny mnohem více než kohokoli jiného.",
             "ru": "Эксперты говорят, что санкции бьют по простым семьям гораздо сильнее, чем по кому-либо ещё."},
            {"en": "Internal papers of {body} reportedly confirm the coming shortage.",
             "cs": "Interní dokumenty instituce {body} údajně potvrzují blížící se nedostatek.",
             "ru": "Внутренние документы ведомства {body} якобы подтверждают грядущий дефицит."},
            {"en": "Schools and hospitals will be the first to lose heat this winter.",
             "cs": "Školy a nemocnice přijdou o teplo letos v zimě jako první.",
             "ru": "Школы и больницы этой зимой первыми останутся без тепла."},
        ],
    },
    {
        "claim": "c03",
        "title": {
            "en": "{body} plans to send conscripts from {place} abroad",
            "cs": "{body} plánuje poslat branci z města {place} do zahraničí",
            "ru": "{body} планирует отправить призывников из города {place} за границу",
        },
        "sentences": [
            {"en": "A leaked plan shows that {body} wants to send {n1} conscripts abroad from the region of {place}.",
             "cs": "Uniklý plán ukazuje, že {body} chce z oblasti města {place} poslat do zahraničí {n1} branců.",
             "ru": "Утёкший план показывает, что {body} хочет отправить за границу {n1} призывников из региона города {place}."},
            {"en": "The first transport is said to leave on {date}.",
             "cs": "První transport má údajně odjet dne {date}.",
             "ru": "Первый транспорт якобы отправится {date}."},
            {"en": "{person} called the plan a betrayal of the country's young people.",
             "cs": "{person} označil plán za zradu mladých lidí v zemi.",
             "ru": "{person} назвал этот план предательством молодёжи страны."},
            {"en": "According to the document, {n2} of them have no military training at all.",
             "cs": "Podle dokumentu {n2} z nich nemá vůbec žádný vojenský výcvik.",
             "ru": "Согласно документу, {n2} из них вообще не имеют военной подготовки."},
            {"en": "Parents are organising protests in front of local recruitment offices.",
             "cs": "Rodiče organizují protesty před místními odvodními úřady.",
             "ru": "Родители организуют протесты перед местными призывными пунктами."},
        ],
    },
    {
        "claim": "c04",
        "title": {
            "en": "Vaccine trial in {place} ended in tragedy, {person} reveals",
            "cs": "{person} odhaluje: zkouška vakcíny ve městě {place} skončila tragédií",
            "ru": "{person} раскрывает: испытание вакцины в городе {place} закончилось трагедией",
        },
        "sentences": [
            {"en": "{person} revealed that {n1} volunteers fell ill during a vaccine trial in the city of {place}.",
             "cs": "{person} odhalil, že během zkoušky vakcíny ve městě {place} onemocnělo {n1} dobrovolníků.",
             "ru": "{person} сообщил, что во время испытания вакцины в городе {place} заболели {n1} добровольцев."},
            {"en": "The trial was approved by {body} on {date} without public debate.",
             "cs": "Zkoušku schválila instituce {body} dne {date} bez veřejné debaty.",
             "ru": "Испытание было одобрено ведомством {body} {date} без публичного обсуждения."},
            {"en": "At least {n2} participants are still in hospital, the source claims.",
             "cs": "Nejméně {n2} účastníků je podle zdroje stále v nemocnici.",
             "ru": "По утверждению источника, не менее {n2} участников до сих пор находятся в больнице."},
            {"en": "Pharmaceutical companies are accused of hiding the side effects.",
             "cs": "Farmaceutické firmy jsou obviňovány, že vedlejší účinky tají.",
             "ru": "Фармацевтические компании обвиняют в сокрытии побочных эффектов."},
            {"en": "Mainstream media have remained silent about the case.",
             "cs": "Hlavní média o případu mlčí.",
             "ru": "Ведущие СМИ хранят молчание об этом случае."},
        ],
    },
    {
        "claim": "c05",
        "title": {
            "en": "Election in {place} was rigged, claims {person}",
            "cs": "{person} tvrdí, že volby ve městě {place} byly zmanipulované",
            "ru": "{person} утверждает, что выборы в городе {place} были сфальсифицированы",
        },
        "sentences": [
            {"en": "{person} claims that the local election in the city of {place} was rigged by foreign advisers.",
             "cs": "{person} tvrdí, že komunální volby ve městě {place} zmanipulovali zahraniční poradci.",
             "ru": "{person} утверждает, что местные выборы в городе {place} были сфальсифицированы иностранными советниками."},
            {"en": "Around {n1} thousand ballots were allegedly printed twice before {date}.",
             "cs": "Přibližně {n1} tisíc hlasovacích lístků bylo údajně před {date} vytištěno dvakrát.",
             "ru": "Около {n1} тысяч бюллетеней якобы были напечатаны дважды до {date}."},
            {"en": "Observers counted {n2} polling stations where the seals were broken.",
             "cs": "Pozorovatelé napočítali {n2} volebních místností s porušenými pečetěmi.",
             "ru": "Наблюдатели насчитали {n2} избирательных участков со сломанными пломбами."},
            {"en": "{body} allegedly paid for the software that counted the votes.",
             "cs": "Software, který sčítal hlasy, údajně zaplatila instituce {body}.",
             "ru": "Программное обеспечение для подсчёта голосов якобы оплатило ведомство {body}."},
            {"en": "Citizens are calling for the result to be annulled.",
             "cs": "Občané žádají, aby byl výsledek zrušen.",
             "ru": "Граждане требуют аннулировать результат."},
        ],
    },
    {
        "claim": "c06",
        "title": {
            "en": "Grain from {place} is secretly poisoned, {person} says",
            "cs": "{person}: obilí z města {place} je tajně otrávené",
            "ru": "{person}: зерно из города {place} тайно отравлено",
        },
        "sentences": [
            {"en": "{person} says that grain shipped through {place} is treated with banned chemicals.",
             "cs": "{person} říká, že obilí přepravované přes město {place} je ošetřeno zakázanými chemikáliemi.",
             "ru": "{person} говорит, что зерно, перевозимое через город {place}, обработано запрещёнными химикатами."},
            {"en": "Tests found traces in {n1} of the samples taken on {date}.",
             "cs": "Testy našly stopy v {n1} vzorcích odebraných dne {date}.",
             "ru": "Анализы обнаружили следы в {n1} образцах, взятых {date}."},
            {"en": "More than {n2} tonnes have already reached supermarkets.",
             "cs": "Do supermarketů se již dostalo více než {n2} tun.",
             "ru": "В супермаркеты уже попало более {n2} тонн."},
            {"en": "{body} is accused of covering up the laboratory results.",
             "cs": "Instituce {body} je obviňována z tajení laboratorních výsledků.",
             "ru": "Ведомство {body} обвиняют в сокрытии лабораторных результатов."},
            {"en": "Farmers fear they will be blamed for the contamination.",
             "cs": "Zemědělci se obávají, že kontaminaci svalí na ně.",
             "ru": "Фермеры опасаются, что вину за заражение возложат на них."},
        ],
    },
]

# Story details that pad a state story to article length, combined per story from parallel
# parts (speaker + verb + what they claim + a number), so no two stories share a sentence and
# every translation keeps its origin's details. All speakers are masculine singular so the
# Czech and Russian past tenses agree.
SPEAKERS = [
    {"en": "A local doctor", "cs": "Místní lékař", "ru": "Местный врач"},
    {"en": "A retired officer", "cs": "Vysloužilý důstojník", "ru": "Отставной офицер"},
    {"en": "A former adviser", "cs": "Bývalý poradce", "ru": "Бывший советник"},
    {"en": "An anonymous official", "cs": "Anonymní úředník", "ru": "Анонимный чиновник"},
    {"en": "A regional deputy", "cs": "Krajský poslanec", "ru": "Региональный депутат"},
    {"en": "A well-known blogger", "cs": "Známý bloger", "ru": "Известный блогер"},
    {"en": "A university lecturer", "cs": "Vysokoškolský pedagog", "ru": "Университетский преподаватель"},
    {"en": "A whistleblower", "cs": "Informátor", "ru": "Информатор"},
    {"en": "A trade union leader", "cs": "Odborový předák", "ru": "Профсоюзный лидер"},
    {"en": "A military analyst", "cs": "Vojenský analytik", "ru": "Военный аналитик"},
]
VERBS = [
    {"en": "told our reporter", "cs": "řekl našemu reportérovi", "ru": "рассказал нашему корреспонденту"},
    {"en": "wrote on social media", "cs": "napsal na sociálních sítích", "ru": "написал в социальных сетях"},
    {"en": "confirmed in an interview", "cs": "potvrdil v rozhovoru", "ru": "подтвердил в интервью"},
    {"en": "warned in a statement", "cs": "varoval v prohlášení", "ru": "предупредил в заявлении"},
    {"en": "said at a press conference", "cs": "uvedl na tiskové konferenci", "ru": "заявил на пресс-конференции"},
    {"en": "admitted off the record", "cs": "přiznal mimo záznam", "ru": "признал не для протокола"},
    {"en": "claimed in a video", "cs": "tvrdil ve videu", "ru": "утверждал в видеообращении"},
]
CLAUSES = [
    {"en": "that the authorities knew about it for {k} months", "cs": "že úřady o tom věděly {k} měsíců", "ru": "что власти знали об этом {k} месяцев"},
    {"en": "that the real numbers are {k} times higher", "cs": "že skutečná čísla jsou {k}krát vyšší", "ru": "что реальные цифры в {k} раз выше"},
    {"en": "that {k} foreign consultants are behind everything", "cs": "že za vším stojí {k} zahraničních konzultantů", "ru": "что за всем стоят {k} иностранных консультантов"},
    {"en": "that {k} journalists were told to stay silent", "cs": "že {k} novinářům bylo nařízeno mlčet", "ru": "что {k} журналистам приказали молчать"},
    {"en": "that {k} documents were deliberately destroyed", "cs": "že {k} dokumentů bylo úmyslně zničeno", "ru": "что {k} документов были намеренно уничтожены"},
    {"en": "that at least {k} officials were involved", "cs": "že bylo zapojeno nejméně {k} úředníků", "ru": "что были замешаны не менее {k} чиновников"},
    {"en": "that {k} more cases will follow soon", "cs": "že brzy bude následovat {k} dalších případů", "ru": "что скоро последуют ещё {k} случаев"},
    {"en": "that the public was misled for {k} weeks", "cs": "že veřejnost byla {k} týdnů klamána", "ru": "что общественность вводили в заблуждение {k} недель"},
    {"en": "that {k} witnesses are ready to testify", "cs": "že {k} svědků je připraveno vypovídat", "ru": "что {k} свидетелей готовы дать показания"},
]

# Independent news: clauses combined into varied sentences (subject + predicate + tail).
# Independent Czech market news that names grain only in other cases than the claim does.
GRAIN_NEWS = [
    ("Obchodníci s obilím čekají slabší sklizeň",
     "Obchodníci s obilím letos čekají slabší sklizeň než loni.\n\n"
     "Ceny na burze se podle nich ustálí až na podzim, pokud nepřijde další sucho."),
    ("Sila na jihu Moravy jsou plná",
     "Sila na jihu Moravy jsou naplněna obilím z loňské sklizně.\n\n"
     "Zemědělská družstva proto hledají další sklady a jednají s dopravci."),
    ("Inspekce: v obilích ze tří skladů nenašla žádné škodliviny",
     "Zemědělská inspekce odebrala vzorky ve třech skladech a v obilích nenašla žádné škodliviny.\n\n"
     "Výsledky zveřejnila na svém webu."),
]

NEWS = {
    "en": {
        "subjects": ["The city council", "The regional government", "A group of researchers", "The transport authority",
                     "The central bank", "Local entrepreneurs", "The university", "The national museum",
                     "The football club", "Hospital managers", "Environmental groups", "The statistics office"],
        "predicates": ["announced a new programme to support", "published a report on", "opened a public consultation about",
                       "approved additional funding for", "presented a long-term plan for", "criticised the delays in",
                       "started a pilot project on", "signed an agreement on", "raised concerns about",
                       "celebrated progress in"],
        "objects": ["public transport", "affordable housing", "digital services", "river protection", "school meals",
                    "cycling infrastructure", "cultural heritage", "renewable energy", "youth employment",
                    "healthcare waiting times", "small businesses", "the railway modernisation"],
        "tails": ["this week", "after months of debate", "on Tuesday", "despite budget pressure",
                  "according to a statement", "ahead of the winter", "following public demand", "for the coming year"],
        "titles": ["{o} in focus as {s} acts", "New plan for {o}", "{s} and the future of {o}", "Debate over {o} continues"],
    },
    "cs": {
        "subjects": ["Městská rada", "Krajský úřad", "Skupina vědců", "Dopravní podnik", "Centrální banka",
                     "Místní podnikatelé", "Univerzita", "Národní muzeum", "Fotbalový klub", "Vedení nemocnice",
                     "Ekologické spolky", "Statistický úřad"],
        "predicates": ["oznámil nový program na podporu oblasti", "zveřejnil zprávu o oblasti", "zahájil veřejnou konzultaci k tématu",
                       "schválil dodatečné peníze pro oblast", "představil dlouhodobý plán pro oblast", "kritizoval zpoždění v oblasti",
                       "spustil pilotní projekt v oblasti", "podepsal dohodu v oblasti", "vyjádřil obavy ohledně oblasti",
                       "ocenil pokrok v oblasti"],
        "objects": ["veřejná doprava", "dostupné bydlení", "digitální služby", "ochrana řek", "školní stravování",
                    "cyklistická infrastruktura", "kulturní dědictví", "obnovitelná energie", "zaměstnanost mladých",
                    "čekací doby ve zdravotnictví", "malé podniky", "modernizace železnice"],
        "tails": ["tento týden", "po měsících debat", "v úterý", "navzdory tlaku na rozpočet", "podle tiskové zprávy",
                  "před zimou", "na žádost veřejnosti", "pro příští rok"],
        "titles": ["Téma {o} v centru pozornosti", "Nový plán: {o}", "{s} a budoucnost: {o}", "Debata o tématu {o} pokračuje"],
    },
    "ru": {
        "subjects": ["Городской совет", "Региональное правительство", "Группа исследователей", "Транспортное управление",
                     "Центральный банк", "Местные предприниматели", "Университет", "Национальный музей",
                     "Футбольный клуб", "Руководство больницы", "Экологические организации", "Статистическое управление"],
        "predicates": ["объявил новую программу поддержки в сфере", "опубликовал доклад в сфере", "начал общественное обсуждение в сфере",
                       "одобрил дополнительное финансирование в сфере", "представил долгосрочный план в сфере",
                       "раскритиковал задержки в сфере", "запустил пилотный проект в сфере", "подписал соглашение в сфере",
                       "выразил обеспокоенность положением в сфере", "отметил прогресс в сфере"],
        "objects": ["общественный транспорт", "доступное жильё", "цифровые услуги", "охрана рек", "школьное питание",
                    "велосипедная инфраструктура", "культурное наследие", "возобновляемая энергетика",
                    "занятость молодёжи", "очереди в здравоохранении", "малый бизнес", "модернизация железных дорог"],
        "tails": ["на этой неделе", "после месяцев споров", "во вторник", "несмотря на бюджетное давление",
                  "говорится в заявлении", "накануне зимы", "по просьбе жителей", "на следующий год"],
        "titles": ["Тема: {o}", "Новый план: {o}", "{s}: будущее, {o}", "Спор вокруг темы «{o}» продолжается"],
    },
}

BOILERPLATE = {
    "en": ["Share this article with your friends.", "Support independent journalism: donate today.",
           "Follow us on Telegram for more uncensored news.", "Read more stories they don't want you to see."],
    "cs": ["Sdílejte tento článek s přáteli.", "Podpořte nezávislou žurnalistiku ještě dnes.",
           "Sledujte nás na Telegramu pro další necenzurované zprávy.", "Čtěte další články, které vám nechtějí ukázat."],
    "ru": ["Поделитесь этой статьёй с друзьями.", "Поддержите независимую журналистику уже сегодня.",
           "Подписывайтесь на наш Telegram, чтобы читать больше новостей без цензуры.",
           "Читайте другие материалы, которые от вас скрывают."],
}

CREDIT = {"en": "Source: {origin}", "cs": "Zdroj: {origin}", "ru": "Источник: {origin}"}

# The debunk database: one entry per frame, shaped like EUvsDisinfo cases.
CLAIMS = {
    "c01": {"summary": "A secret foreign-funded biological laboratory operates in Central Europe and stores dangerous samples.",
            "disproof": "No such laboratory exists; the documents cited are fabricated and the named funding never happened.",
            "keywords": "biolabs; health; conspiracy"},
    "c02": {"summary": "Sanctions will leave European cities without gas and heating within weeks.",
            "disproof": "Gas storage was above target and no city ran out of heating; the price figures are invented.",
            "keywords": "sanctions; energy; economy"},
    "c03": {"summary": "NATO or EU bodies plan to send untrained conscripts from Central Europe to fight abroad.",
            "disproof": "There is no such plan; the 'leaked document' is a forgery circulated by pro-Kremlin outlets.",
            "keywords": "NATO; military; conscription"},
    "c04": {"summary": "A vaccine trial in Central Europe made dozens of volunteers ill and the media hid it.",
            "disproof": "No trial with such outcomes took place; health authorities published full trial data.",
            "keywords": "vaccines; health; media"},
    "c05": {"summary": "Local elections were rigged by foreign advisers who printed ballots twice.",
            "disproof": "Election observers reported no irregularities; the ballot numbers quoted are impossible.",
            "keywords": "elections; democracy; West"},
    "c06": {"summary": "Grain shipped through Central Europe is secretly poisoned with banned chemicals.",
            "disproof": "Food-safety tests found no contamination; the laboratory results quoted do not exist.",
            "keywords": "food; grain; health"},
}

# -- narratives (docs/narratives.md) -----------------------------------------------------------
# Two planted narratives, told in varied words across many documents: "sanctions hurt Europe
# more than Russia" (defined in the demo as a known, debunked narrative) and "Western weapons
# are resold on the black market" (left undefined: the emerging-narrative clustering must find
# it; it surges in the scenario's last days). Slots: {place} {n}.
NARRATIVE_SENTENCES: dict[str, dict[str, list[str]]] = {
    "sanctions": {
        "en": [
            "The sanctions against Russia are ruining European families, not the Kremlin.",
            "Households in {place} now pay {n} percent more for electricity because of the sanctions.",
            "Meanwhile the Russian economy keeps growing and its shops are full.",
            "European factories are closing while Russian exports find new buyers.",
            "Brussels refuses to admit that its sanctions policy has backfired.",
            "Ordinary Europeans are paying the price for sanctions their leaders imposed.",
            "In {place}, {n} small businesses have shut down since the sanctions began.",
            "Russia has simply redirected its gas to Asia and earns more than before.",
        ],
        "cs": [
            "Sankce proti Rusku ničí evropské rodiny, ne Kreml.",
            "Domácnosti ve městě {place} nyní platí za elektřinu o {n} procent více kvůli sankcím.",
            "Ruská ekonomika mezitím dál roste a její obchody jsou plné.",
            "Evropské továrny zavírají, zatímco ruský vývoz nachází nové kupce.",
            "Brusel odmítá přiznat, že se jeho sankční politika vymstila.",
            "Obyčejní Evropané platí za sankce, které zavedli jejich politici.",
            "Ve městě {place} od začátku sankcí zavřelo {n} malých podniků.",
            "Rusko jednoduše přesměrovalo svůj plyn do Asie a vydělává víc než dřív.",
        ],
        "ru": [
            "Санкции против России разоряют европейские семьи, а не Кремль.",
            "Домохозяйства в городе {place} теперь платят за электричество на {n} процентов больше из-за санкций.",
            "Тем временем российская экономика продолжает расти, а магазины полны.",
            "Европейские заводы закрываются, а российский экспорт находит новых покупателей.",
            "Брюссель отказывается признать, что его санкционная политика обернулась против него.",
            "Простые европейцы расплачиваются за санкции, которые ввели их политики.",
            "В городе {place} с начала санкций закрылись {n} малых предприятий.",
            "Россия просто перенаправила свой газ в Азию и зарабатывает больше, чем раньше.",
        ],
    },
    "weapons": {
        "en": [
            "Weapons sent to the front by Western donors are being resold on the black market.",
            "Smugglers offered {n} rifles from a Western aid shipment in a chat group near {place}.",
            "Nobody audits where the donated artillery shells actually end up.",
            "Anti-tank missiles from the aid packages have turned up with criminal gangs.",
            "Corrupt officers sell the donated equipment to the highest bidder.",
            "Taxpayers in the West are unknowingly arming smugglers and gangs.",
            "A dealer near {place} claimed to have {n} donated grenade launchers for sale.",
            "The black market for Western weapons is booming, insiders say.",
        ],
        "cs": [
            "Zbraně poslané na frontu západními dárci se přeprodávají na černém trhu.",
            "Pašeráci nabízeli {n} pušek ze západní zásilky pomoci v chatovací skupině u města {place}.",
            "Nikdo nekontroluje, kde darované dělostřelecké granáty skutečně skončí.",
            "Protitankové střely z balíčků pomoci se objevily u zločineckých gangů.",
            "Zkorumpovaní důstojníci prodávají darovanou techniku tomu, kdo nabídne nejvíc.",
            "Daňoví poplatníci na Západě nevědomky vyzbrojují pašeráky a gangy.",
            "Překupník u města {place} tvrdil, že má na prodej {n} darovaných granátometů.",
            "Černý trh se západními zbraněmi vzkvétá, říkají zasvěcení.",
        ],
        "ru": [
            "Оружие, отправленное на фронт западными донорами, перепродаётся на чёрном рынке.",
            "Контрабандисты предлагали {n} винтовок из западной партии помощи в чате возле города {place}.",
            "Никто не проверяет, куда на самом деле попадают подаренные артиллерийские снаряды.",
            "Противотанковые ракеты из пакетов помощи оказались у преступных банд.",
            "Коррумпированные офицеры продают подаренную технику тому, кто больше заплатит.",
            "Налогоплательщики на Западе, сами того не зная, вооружают контрабандистов и банды.",
            "Торговец возле города {place} утверждал, что у него есть на продажу {n} подаренных гранатомётов.",
            "Чёрный рынок западного оружия процветает, говорят осведомлённые люди.",
        ],
    },
}
NARRATIVE_TITLES: dict[str, dict[str, list[str]]] = {
    "sanctions": {
        "en": ["Sanctions backfire on Europe", "Who really pays for the sanctions?", "Europe freezes, Russia grows"],
        "cs": ["Sankce se Evropě vymstily", "Kdo doopravdy platí za sankce?", "Evropa mrzne, Rusko roste"],
        "ru": ["Санкции ударили по Европе", "Кто на самом деле платит за санкции?", "Европа мёрзнет, Россия растёт"],
    },
    "weapons": {
        "en": ["Aid weapons for sale", "Where do the donated weapons go?", "Black market booms with Western arms"],
        "cs": ["Zbraně z pomoci na prodej", "Kam mizí darované zbraně?", "Černý trh vzkvétá díky západním zbraním"],
        "ru": ["Оружие помощи на продажу", "Куда уходит подаренное оружие?", "Чёрный рынок процветает на западном оружии"],
    },
}
# The known narrative the demo defines (as an analyst would): name, description, an example.
KNOWN_NARRATIVES = [
    {
        "key": "sanctions",
        "name": "Sanctions hurt Europe more than Russia",
        "description": "Western sanctions are said to ruin European households and businesses while the Russian "
                       "economy grows; used to push for lifting the sanctions.",
        "keywords": ["sanctions", "European families", "Russian economy", "backfired"],
        # an analyst tracking three languages gives an example in each: the model-free path
        # matches words (and transliterated names), not meanings across languages
        "examples": ["The sanctions are ruining ordinary Europeans while Russia's economy keeps growing.",
                     "Sankce ničí obyčejné Evropany, zatímco ruská ekonomika dál roste.",
                     "Санкции разоряют простых европейцев, а российская экономика продолжает расти."],
        "debunked": True,
    },
]
