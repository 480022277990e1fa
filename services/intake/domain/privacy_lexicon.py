"""Word lists for the personal-data scrubber (``privacy.py``).

Data only, no logic. Every set holds lower-case words so that a lookup is one ``in`` test on
``word.lower()``. Lists are written as whitespace-separated text because a few hundred names
in that form are far easier to review (and extend) than a few hundred quoted literals.

What each list is for:

- ``FIRST_NAMES`` / ``SURNAMES``: a capitalised word mid-sentence that is on one of these lists
  is a person's name. First names cover the communities Flemish field workers meet: Flemish,
  Moroccan, Turkish, Syrian and other Arabic, Afghan, Eritrean/Ethiopian, Polish, Romanian,
  Congolese, West-African, Ukrainian.
- ``ALLOWED_WORDS`` / ``ALLOWED_PHRASES``: proper nouns that must never be scrubbed, because a
  signal without them no longer says where or with which service the problem is: places,
  neighbourhoods, services and institutions, brands families deal with, nationalities,
  languages, religions, holidays, months and weekdays.
- ``COMMON_WORDS``: ordinary Dutch words that turn up capitalised (sentence openers, words in
  the names of organisations). They are never names on their own.
"""

from __future__ import annotations

from typing import Final


def _words(text: str) -> frozenset[str]:
    return frozenset(word.lower() for word in text.split())


def _phrases(text: str) -> frozenset[tuple[str, ...]]:
    """One phrase per line; the tokenizer in ``privacy.py`` splits on spaces only, so do we."""
    return frozenset(
        tuple(line.lower().split()) for line in text.splitlines() if len(line.split()) >= 2
    )


# --------------------------------------------------------------------------------------------
# Person names
# --------------------------------------------------------------------------------------------

FIRST_NAMES: Final = _words(
    """
    aaron abdel abdelaziz abdelkader abdellah abderrahim abdul abdulrahman abdullah abdulla
    abeba abel abraham adam adil adnan adrian adriana adriano aicha aïcha aisha aissatou
    ahmad ahmed ahmet ahmadullah akram alaa alain alex alexander alexandra alexandre alexandru
    alexis ali alicia alina alisha aliyah alpha amal amanda amani amanuel amaury amber amelia
    amélie amin amina aminata amine amir amira amjad ammar amy ana anas anastasia anca andré
    andrea andreea andrei andrew andrii andrzej ange angela angelo anil anita anja ann anna
    anne annelies annemie annick anouk anthony antoine anton antoni antonio anwar aoife april
    arben arda arezo aria arian ariane arjen arne arnaud arno arnold arthur artem arwa asma
    asmaa asmae assia astrid asya aurélie awet axel axelle aya ayaan ayah ayan ayman aymane
    ayoub ayse ayşe azad azeb aziz azra badr baran barbara bart bartosz basel bashar bashir
    bastiaan batoul batuhan bayram beatrice béatrice beatriz bénédicte benedicte benjamin
    bereket berfin berk bernard bert beyza bianca bilal biniam binta birgit bjorn björn blaise
    blerina bogdan boris bouchra brahim bram brecht brenda brent britt bruno bryan burak buse
    büşra busra camelia camille can carla carlos carmen carolien caroline cassandra catalina
    cedric cédric celine céline cem cemal cengiz chaima chaimae chancelle charlotte chayma
    chelsea chiara chloé chloe chris christel christelle christian christine christophe
    cindy claire clara clarisse constantin cosmin costel cristian cristina daan dalia dana
    daniel daniela daniëlle danielle danny daria darius david dawid dawit debbie deborah
    defne delphine denis denisa deniz derya dieter dieudonné dieudonne dilan dilek dimitri
    dirk divine djamila djo doaa dominique dorota douae dounia dries driss dritan duaa
    dumitru duru dylan ebru ecrin eda eddy edith edward efe efrem ehsan ela elena eleni elham
    elia elias elie elif elikya elin elina eline elira elisa elisabeth elise ella ellen ellie
    els elsa emel emiel emilia emilie émilie emily emine emir emma emmanuel emre enes enzo
    erdem eren eric erik erkan ersin esma esmee esra esther ethan eva evelien evi ewa ewelina
    exaucé exauce eyob ezra fabian fabienne fabio fabrice fadi fadoua fahad fanny farah farid
    farida fatemeh fatih fatima fatma fatoumata fatou farzana febe femke ferre filip filmon
    fien finn firas fiston flor florence florentina florian florin francesca francis
    françois francois frank frederik freshta freweyni freya furkan gabriel gabriela
    georgiana gert ghada ghassan ghita ghizlane gianni gilles gillian gizem glenn gloire
    glody gosia grace gracia grâce greet griet grzegorz guillaume gül gulalai gunther gust
    guy habib habtom hadi hadia hafsa haider hajar hakan hakim hala halil hamid hamza hamzah
    hana hanan hanane hande hanna hannah hanne hannes hans harun hasan hasina hassan hatice
    heba hélène helena helen henk henok henri héritier heritier herman hevin hicham hiba hilal
    hilde hind hiwet houda hugo hülya hulya husam hussain hussein hüseyin huseyin iana ian
    ibrahim ibrahima idris idriss igor ikram ilham ilias ilyas iman imane imad ina inas ine
    inge ines inès ioana ion ionut ionuț irem irina iris iryna isa isabel isabelle ismael
    ismail ismet issa issam iulian iwona jacques jade jakub jamal jamie jamila jamshid jan
    jana janne jari jasmine jasmina jasper javad jawad jean jean-claude jean-paul jean-pierre
    jef jelle jens jente jeroen jesse jessica jill jitse jo joanna joachim joey johan johanna
    john jolien jonas jonathan joni joost jordy joris jos jose josé joseph josephine josué
    joud jozef judith judy julia julian julie julien jules junior jurgen justine justyna
    kaan kaat kacper kadir kaoutar karel karim karima karin karolina kasia kasper katarzyna
    kathleen katleen kato katrien kawtar kayla kelly kemal kenan kenny kerem kevin khadija
    khaled khalid khaoula kiara kidane kim kinga klaas kobe koen kris kristof kübra kubra
    laila lama lamia lana lara larisa lars latifa laura laurence laurens lauren laurent lea
    léa leen leila lena lennert lennart leo leon léon leonie léonie levent leyla liam lidya
    lien lies liesbeth lieve lieze lina linda lisa lise liv loes loïc loic lore loredana
    lotte lou louay loubna louis louise lowie luc luca lucas lucie luka lukas łukasz lukasz
    luwam maarten maciej madalina mădălina madina magda magdalena maha mahbooba mahlet
    mahmood mahmoud maja majd malak malalai malgorzata małgorzata malika mamadou manon
    manuel mara marc marcel marcin marco marek margot maria mariam mariama marie marieke
    marijke marina mario marion marius mark marleen marta martijn martin martine marwa marwan
    mary maryam marzia massoud mateusz mathias mathieu mathis mats matteo matthias mattias
    maud mauro max maxim maxime maya maysa mays mazen mebrahtu mehdi mehmet mehari mélanie
    melanie melek melike melissa merhawi merel meron merve merveille meryem michael michaël
    michal michał michel michiel mieke mihaela mihai mihret mila milan mira miray mircea
    mireille mirte mohamed mohammad mohammed mohannad moïse moise monica monika monique
    morteza mostafa mounia mounir mourad moussa muhammad muhannad mursal murat mussie
    mustafa mykola nabil nada nadège nadege nadia nadine nadir naima najat najib najoua nancy
    naomi nargis nasir nassim natalia natalie nathalie nathan natnael naveed nawal nazlı nazli
    nele nelly nicolae nicolas nicole nicoleta niels nihad nihal nikola nilofar nina nisa nisrine
    nizar noa noah noam noë noé noel noël nora nordin nore noor noortje nour noura noureddine
    nur oana obada ocean oğuz oguz oleksandr olena olga olivia olivier oliwia omar omid onur
    orhan oskar osman othman oumaima ousmane oussama ovidiu ozan özlem ozlem parisa parwana
    pascal patrice patricia patrick paul paula paulien paulina pawel paweł pedro peter petra
    petru philippe pierre pieter pieter-jan piotr plamedi prince quinten qusai rabia rachel
    rachid rachida radu rafael rafik raghad rahaf rahel rahim rahma rahmat rahwa raluca rami
    ramazan ramona rania rashid rasha rawan rayan rayane razvan răzvan recep reda redouan
    redouane reem remco rémi remi renata renée renee reza riad richard rik rim rime rita rob
    robbe robel robert robin rocco rodrigo rojda rojin roland roman romy ronald rosa rosalie
    rose roxana roya ruba ruben rudi rudy rula ruth ryan saar saba sabine sabrina sadia
    sadık sadik safae safia safiya sahar said saïd salah salim salma sam samer sami samia
    samir samira samuel sana sanae sander sandra sandrine sara sarah sayed selam selamawit
    selim selin selma sem semere semhar sena senait senne seppe serdar serge serkan sevgi
    şeyma seyma shabnam shafiq shahd shakila sharifa shirin siebe siham sihame silke simon
    simona sina sinan sofia sofian sofiane sofie sohail solange songül songul sophie soraya
    sorin souad soufiane soukaina stan stanisław stefaan stefan ștefan stephanie stéphanie
    steven stien stijn suha süleyman suleyman sultan sümeyye svitlana sylvie sylwia szymon
    taha tahmina tamara tamer tarik tariq tasneem tayfun teodora tesfay tesfaye tess tessa
    tetiana thibault thibaut thijs thomas tibo tigist tijs tim timo tina tine tinne tirhas
    tobias tolga tom tomas tomasz toon trésor tresor tristan tsega tuba tuğba tugba tuncay tuur
    umut valentin valentina valerie valérie vanessa vasile veerle vera viktor viktoria
    viktoriia vince vincent viorel vic victor victoria violeta vladyslav volkan wael wafa
    wafae wahid walid walter wannes ward warre wassim weronika werner wiam wim winta wissal
    wojciech wout wouter xander yahya yamen yana yannick yara yasemin yasin yasmin yasmina
    yasmine yassin yassine yavuz yemane yentl yohannes yonas yordanos yorben younes yousef
    yousra youssef yulia yunus yusuf zabi zabiullah zahra zaid zainab zakaria zakariya zakia
    zarghona zayd zbigniew zehra zeina zeno zeynep zineb zita zoë zoe zofia zohra zouhair
    zuzanna
    akise alphonse bieke denise eloïse françoise güldam havse hindal héloïse ilse josse koenraad
    lodewijk lorelei maryse nevise saydam sezen thérèse çıdal özdal
    """
)
"""Given names. Left out on purpose: names that are mostly something else in a signal
("Frans" the language, "Mei"/"Juni" the months, "Roma", "Israel"); a cue word ("zoon
Frans") still catches them."""

SURNAMES: Final = _words(
    """
    peeters janssens maes jacobs mertens willems claes goossens wouters desmet dubois lambert
    dupont hermans aerts michiels smets pauwels vermeulen verbruggen verhoeven leroy claeys
    hendrickx hendrikx dumont cools lemmens stevens segers coppens martens verstraete wuyts
    maenhout renard leclercq geerts baert bogaert bosmans cornelis declercq devos dewulf
    engelen gielen heylen huybrechts jansen janssen kenis leysen lenaerts luyten mahieu meeus
    moens nijs peters raes schepers thys thijs timmermans vandamme vanderstraeten verhaegen
    verheyen verlinden vermeiren vervoort verschueren wyns claessens boonen bollen buyse
    dhondt deprez dierickx dockx dewaele goethals lauwers mortier nuyts pieters roels sels
    sterckx stroobants thielemans vandewalle vercammen verbeke vermeersch vlaeminck willaert
    hellemans daems vandevelde vandenberghe vanhoof vanhove verbist verbeeck vervaet
    vanacker vanhecke vandenbroeck vandeputte deckers dehaene callens coene debruyne
    demeyer depuydt deschepper devriendt dhaene dierckx govaerts heremans jorissen laenen
    lievens loos mees meert neyens ooms pinxten rombouts schoofs slegers swinnen tack
    vanhees verbiest vranckx wijns wils
    amrani idrissi alaoui benali bouzid azzouzi boukhari ouazzani bennani chaouki hamdaoui
    bakkali tahiri ouali belhaj aouragh boulaich zaoui ziani haddouchi marzouki mansouri
    jaouhari moussaoui aberkane bouazza lahlou berrada cherkaoui tazi chakir slimani
    ennaji boujdaini khattabi bouchikhi boukhari elkaoui haddou lamrabet mimouni saidi
    yilmaz yılmaz kaya demir şahin sahin çelik celik yıldız yildiz yıldırım yildirim öztürk
    ozturk aydın aydin özdemir ozdemir arslan doğan dogan kılıç kilic aslan çetin cetin
    koç koc özkan ozkan şimşek simsek polat korkmaz erdoğan erdogan akbulut güneş gunes
    bulut akın akin yavuz kaplan
    nowak kowalski kowalska wiśniewski wisniewski wójcik wojcik kowalczyk kamiński kaminski
    lewandowski zieliński zielinski szymański szymanski woźniak wozniak dąbrowski dabrowski
    popescu ionescu popa dumitru stoica gheorghe matei ciobanu rusu munteanu florea lazar
    ahmadi mohammadi hashimi rahimi karimi hussaini hosseini sultani noori rezaei jafari
    haidari amiri sadat stanekzai popal safi wardak
    hamdan khalil haddad mansour nasser saleh khoury darwish aldarwish alhussein
    gebremariam tekle haile berhane ghebremedhin woldemichael gebre tesfamariam andemariam
    habte kahsay
    mbuyi kabila kabongo ilunga tshibangu kalala mukendi ngoy mutombo lukusa kasongo kanku
    nzuzi makiese lumumba kabeya mulumba tshimanga mbala bokanga lokonda mayala ndombe
    diallo barry bah sow camara traoré traore keita coulibaly konaté konate touré toure
    kovalenko shevchenko bondarenko tkachenko kravchenko
    andries buysse degryse delfosse marchal marechal maréchal meurisse nicaise roose
    vandenbussche vandendriessche vercruysse assche driessche bossche
    """
)
"""Surnames, one token each. Compound ones (De Smet, Van Damme, El Amrani) are caught as a
particle followed by a capitalised word; see ``SURNAMES_AFTER_DE``."""

SURNAMES_AFTER_DE: Final = _words(
    """
    smet vos backer clercq cock coninck meyer wilde groote keyser ridder jonghe wolf bruyne
    wever pauw baets bock boeck bruyn clerck graeve jonge laet maeyer mey munck neve paepe
    raedt rycke schepper schrijver sutter vlieger vriendt vries waele wachter wit witte winter
    decker muynck roo graef beuckelaer bondt craene geyter haes kesel leeuw moor proft rijck
    saeger schutter wulf buck brabander cuyper doncker gendt grave greef hertogh hondt kimpe
    langhe lathouwer loose meester naeyer ryck schryver smedt taeye vuyst weerdt brouwer
    ceuster coster bie bruycker baere blieck keersmaecker meulemeester rouck schamphelaere
    vylder wannemacker
    """
)
"""Flemish surnames written "De X". A capitalised "De X" mid-sentence is far more often a
school, youth house or organisation ("De Regenboog", "De Sleutel") than a person, so it only
counts as a name when X is on this list, or when a first name or a cue word comes first."""

NAME_PARTICLES: Final = _words(
    """
    van de der den von ter ten el al ben bin ibn abu abou bou ait da das dos do di du la le
    vanden vander vande d' 't op
    """
)
"""Lower-case words that may sit inside a name: "Jan van der Berg", "Fatima el Amrani"."""

FIRST_NAMES_NOT_AT_SENTENCE_START: Final = _words(
    """
    ben dan toon roos hoop mag max will wil bo iris jade amber leen lente merel kim sterre
    ward flor tim liv rose lies vera nada sultan mara ocean noa rosa hana
    """
)
"""First names that are also ordinary Dutch words and open sentences in that sense ("Ben je
...", "Dan gaan we ...", "Toon het formulier"). At sentence start they are left alone."""

SURNAMES_NOT_AT_SENTENCE_START: Final = _words(
    """
    engelen bollen mortier loos mees ooms tack wils boonen kaplan bulut
    """
)

NAME_CUES: Final = _phrases(
    """
    mama van
    moeder van
    papa van
    vader van
    oma van
    opa van
    tante van
    nonkel van
    oom van
    broer van
    zus van
    zoon van
    dochter van
    kind van
    vriend van
    vriendin van
    de kleine
    naam is
    noemt zich
    heet eigenlijk
    de heer
    """
) | frozenset(
    (word,)
    for word in _words(
        """
    mevrouw mevr mw mme madame meneer mijnheer menheer mr dhr monsieur heer juf juffrouw
    meester dokter dr mama moeder papa vader mams paps zoon zoontje dochter dochtertje broer
    broertje zus zusje zuster oma opa tante nonkel oom neef nicht stiefvader stiefmoeder
    plusmama pluspapa leerling leerlinge kleuter baby genaamd heet heten noemt bijgenaamd
    alias familie fam gezin cliënt cliënte client buurman buurvrouw collega naam voornaam
    achternaam
    """
    )
)
"""Words after which a capitalised word is a person: "mevrouw Peeters", "de mama van Ayoub",
"het gezin El Amrani". Tuples because some cues are two words."""


# --------------------------------------------------------------------------------------------
# Never scrubbed
# --------------------------------------------------------------------------------------------

_MUNICIPALITIES = """
    aalst aalter aarschot aartselaar affligem alken alveringem antwerpen anzegem ardooie
    arendonk as asse assenede avelgem baarle-hertog balen beernem beerse beersel begijnendijk
    bekkevoort beringen berlaar berlare bertem bever beveren beveren-kruibeke-zwijndrecht
    bierbeek bilzen bilzen-hoeselt blankenberge bocholt boechout bonheiden boom boortmeerbeek
    borgloon bornem borsbeek boutersem brakel brasschaat brecht bredene bree brugge buggenhout
    damme deerlijk deinze denderleeuw dendermonde dentergem dessel destelbergen diepenbeek
    diest diksmuide dilbeek dilsen-stokkem drogenbos duffel edegem eeklo erpe-mere essen
    evergem galmaarden gavere geel geetbets genk gent geraardsbergen gingelom gistel glabbeek
    gooik grimbergen grobbendonk haacht haaltert halen halle ham hamme hamont-achel
    harelbeke hasselt hechtel-eksel heers heist-op-den-berg hemiksem herent herentals
    herenthout herk-de-stad herne herselt herstappe herzele heusden-zolder heuvelland
    hoegaarden hoeilaart hoeselt holsbeek hooglede hoogstraten horebeke houthalen-helchteren
    houthulst hove huldenberg hulshout ichtegem ieper ingelmunster izegem jabbeke kalmthout
    kampenhout kapelle-op-den-bos kapellen kaprijke kasterlee keerbergen kinrooi kluisbergen
    knokke-heist koekelare koksijde kontich kortemark kortenaken kortenberg kortessem
    kortrijk kraainem kruibeke kruisem kuurne laakdal laarne lanaken landen langemark-poelkapelle
    lebbeke lede ledegem lendelede lennik leopoldsburg leuven lichtervelde liedekerke lier
    lierde lievegem lille linkebeek lint linter lo-reninge lochristi lokeren lommel londerzeel
    lubbeek lummen maarkedal maaseik maasmechelen machelen maldegem malle mechelen meerhout
    meise melle menen merchtem merelbeke merelbeke-melle merksplas mesen meulebeke
    middelkerke moerbeke mol moorslede mortsel nazareth nevele niel nieuwerkerken nieuwpoort
    nijlen ninove oosterzele oostende oostkamp oostrozebeke opwijk oudenaarde oudenburg
    oud-heverlee oudsbergen oud-turnhout overijse peer pelt pepingen pittem poperinge putte
    puurs puurs-sint-amands ranst ravels retie riemst rijkevorsel roeselare ronse roosdaal
    rotselaar ruiselede rumst schelle scherpenheuvel-zichem schilde schoten
    sint-genesius-rode sint-gillis-waas sint-katelijne-waver sint-laureins
    sint-lievens-houtem sint-martens-latem sint-niklaas sint-pieters-leeuw sint-truiden
    spiere-helkijn stabroek staden steenokkerzeel stekene temse ternat tervuren tessenderlo
    tielt tielt-winge tienen tongeren tongeren-borgloon torhout tremelo turnhout
    vilvoorde vleteren voeren vorselaar vosselaar waarschoot wachtebeke waregem waasmunster
    wellen wemmel wervik westerlo wetteren wevelgem wezembeek-oppem wichelen wielsbeke
    wijnegem willebroek wingene wommelgem wortegem-petegem wuustwezel zandhoven zaventem
    zedelgem zele zelzate zemst zingem zoersel zonhoven zonnebeke zottegem zoutleeuw
    zuienkerke zulte zutendaal zwalm zwevegem zwijndrecht
    brussel bruxelles anderlecht oudergem sint-agatha-berchem etterbeek evere vorst
    ganshoren elsene jette koekelberg sint-jans-molenbeek molenbeek sint-gillis
    sint-joost-ten-node schaarbeek schaerbeek ukkel watermaal-bosvoorde
    sint-lambrechts-woluwe sint-pieters-woluwe laken neder-over-heembeek haren
    luik liège liege namen namur charleroi bergen mons doornik tournai moeskroen mouscron
    waver wavre nijvel nivelles aarlen arlon verviers seraing eupen ottignies
    louvain-la-neuve edingen komen halle-vilvoorde
"""

_NEIGHBOURHOODS = """
    afsnee desteldonk drongen gentbrugge ledeberg mariakerke mendonk oostakker
    sint-amandsberg sint-denijs-westrem sint-kruis-winkel wondelgem zwijnaarde rabot
    sluizeken tolhuis muide meulestede dampoort bloemekenswijk macharius heirnis
    stationsbuurt moscou kanaaldorpen binnenstad ekkergem steenakker malem kolegem
    sint-pieters-aalst watersportbaan afrikalaan
    berchem borgerhout deurne ekeren hoboken merksem wilrijk berendrecht zandvliet lillo
    linkeroever kiel seefhoek luchtbal stuivenberg zurenborg eilandje haringrode kievitwijk
    tuinwijk schoonselhof rozemaai silsburg brederode
    sint-andries sint-kruis sint-michiels assebroek koolkerke dudzele lissewege zeebrugge
    sint-pieters sint-jozef christus-koning kristus-koning
    winterslag waterschei zwartberg bret-gelieren sledderlo termien boxbergheide kolderbos
    hoevenzavel langerlo kattevennen genk-centrum genk-noord genk-zuid
    kuringen stevoort kermt spalbeek wimmertingen sint-lambrechts-herk stokrooie runkst
    godsheide kiewit rapertingen tuilt schimpen
    heule bissegem marke aalbeke bellegem kooigem rollegem overleie pottelberg venning walle
    heverlee kessel-lo wilsele wijgmaal korbeek-lo
    battel heffen hombeek leest muizen walem nekkerspoel tinel ragheno
    stene zandvoorde konterdam vuurtorenwijk opex westerkwartier hazegras petit-paris
    sas-slijkens raversijde
    rumbeke oekene krottegem schiervelde zilverberg
    erembodegem gijzegem baardegem herdersem hofstade meldert moorsel pierenbos mijlbeek
    belsele nieuwkerken-waas sinaai clementwijk tereken
    zevendonk schorvoort oosthoven
    peutie koningslo heembeek
"""

_COUNTRIES_AND_REGIONS = """
    belgië belgie vlaanderen wallonië wallonie europa afrika azië azie amerika syrië syrie
    marokko turkije afghanistan eritrea ethiopië ethiopie somalië somalie congo polen
    roemenië roemenie bulgarije oekraïne oekraine rusland irak iran palestina gaza guinee
    kameroen algerije tunesië tunesie libanon jordanië jordanie egypte soedan jemen albanië
    albanie kosovo servië servie macedonië armenië georgië tsjetsjenië pakistan india
    bangladesh nepal tibet china brazilië nigeria ghana senegal mali burundi rwanda angola
    nederland frankrijk duitsland spanje italië italie portugal griekenland engeland
    luxemburg ierland zweden noorwegen slowakije tsjechië hongarije kroatië bosnië
    venezuela colombia ecuador peru bolivia chili argentinië mexico cuba haïti haiti
    limburg kempen waasland meetjesland westhoek pajottenland noorderkempen
    oost-vlaanderen west-vlaanderen vlaams-brabant waals-brabant henegouwen
"""

_NATIONALITIES_LANGUAGES_RELIGIONS = """
    belg belgen belgisch belgische vlaming vlamingen vlaams vlaamse nederlands nederlandse
    nederlander nederlanders nederlandstalig nederlandstalige frans franse fransman
    franstalig franstalige engels engelse engelstalig duits duitse spaans spaanse italiaans
    italiaanse portugees portugese arabisch arabische berber berbers tamazight amazigh
    tarifit riffijns turks turkse turk turken koerdisch koerdische koerd koerden dari pasjtoe
    pashto farsi perzisch perzische tigrinya tigrinia tigrinyaans amhaars amhaarse
    somalisch somalische somaliër somaliërs pools poolse roemeens roemeense bulgaars
    bulgaarse russisch russische oekraïens oekraïense oekraïner oekraïners lingala swahili
    kiswahili kikongo tshiluba albanees albanese servisch servische syriër syriërs syrisch
    syrische marokkaan marokkanen marokkaans marokkaanse afghaan afghanen afghaans afghaanse
    eritreeër eritreeërs eritrees eritrese congolees congolese congolezen roma sinti
    irakees irakese irakezen iraaks iraakse palestijn palestijnen palestijns palestijnse
    guineeër guinese algerijn algerijnen algerijns algerijnse tunesiër tunesische egyptisch
    egyptenaar afrikaans afrikaanse europees europese oost-europees oost-europese
    nieuwkomer nieuwkomers islam islamitisch islamitische moslim moslims moslima christen
    christenen christelijk christelijke katholiek katholieke joods joodse orthodox
    orthodoxe koran bijbel god allah jezus
"""

_CALENDAR = """
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
    januari februari maart april mei juni juli augustus september oktober november december
    feb mrt apr jun jul aug sep sept okt nov dec
    kerstmis kerst kerstvakantie pasen paasvakantie krokusvakantie herfstvakantie
    zomervakantie allerheiligen allerzielen sinterklaas sint-maarten nieuwjaar oudejaar
    ramadan suikerfeest offerfeest eid pinksteren hemelvaart carnaval halloween valentijn
    moederdag vaderdag wapenstilstand kerstfeest kerstmarkt chanoeka diwali nowruz newroz
    lentefeest vormsel communie kerstman
"""

_SERVICES_AND_BRANDS = """
    ocmw cpas clb caw jac vdab nmbs fedasil opgroeien smartschool bingel uitpas uit
    groeipakket okan rode kruis fod rva riziv vaph svk wgc dvz cgvs atlas in-gent ligo
    cvo awel teleonthaal tele-onthaal zorgkas famiris fons infino kidslife myfamily parentia
    mutualiteit solidaris helan partena vivas chiro ksa klj scouts gidsen colruyt aldi lidl
    delhaize carrefour okay spar action kruidvat hema zeeman primark ikea brico gamma
    proximus telenet orange base scarlet mobile-vikings fluvius engie luminus eneco
    totalenergies mega farys pidpa water-link aquafin whatsapp facebook instagram tiktok
    snapchat messenger google youtube microsoft teams zoom itsme doccle myminfin tax-on-web
    bancontact payconiq caritas vluchtelingenwerk unicef kinderarmoedefonds agodi ovsg
    kinderrechtencommissariaat kinderrechtswinkel onderwijsinspectie samenlevingsopbouw
    welzijnsschakels recht-op de-lijn buzzy-pazz omnipas paspartoe a-kaart
    studietoelage schooltoelage kansenpas vrijetijdspas leefloon velo cambio blue-bike
    netflix amazon bol.com vinted marktplaats sodexo edenred monizze pluxee covid corona
    euro chatgpt windows android iphone samsung apple statbel volvo audi arcelormittal
    bpost randstad adecco securitas decathlon hubo kinepolis zalando
"""

ALLOWED_WORDS: Final = _words(
    _MUNICIPALITIES
    + _NEIGHBOURHOODS
    + _COUNTRIES_AND_REGIONS
    + _NATIONALITIES_LANGUAGES_RELIGIONS
    + _CALENDAR
    + _SERVICES_AND_BRANDS
)
"""Single proper nouns that stay. Also used to accept the town after a postcode."""

PLACES: Final = _words(_MUNICIPALITIES + _NEIGHBOURHOODS)
"""Towns and neighbourhoods: "9000 Gent" is an address, "9000 Gentse" is not."""

ALLOWED_PHRASES: Final = _phrases(
    """
    De Lijn
    Sociaal Huis
    Kind en Gezin
    Kind & Gezin
    Huis van het Kind
    Huis van het Nederlands
    Rode Kruis
    Rode Kruis Vlaanderen
    Child Focus
    Scouts en Gidsen Vlaanderen
    Agentschap Integratie en Inburgering
    Dienst Vreemdelingenzaken
    Vlaamse Sociale Bescherming
    Wonen Vlaanderen
    De Kringwinkel
    Sociale Kruidenier
    Albert Heijn
    Google Classroom
    Microsoft Teams
    Koning Boudewijnstichting
    Netwerk tegen Armoede
    Uit De Marge
    Kom op tegen Kanker
    De Watergroep
    Mobile Vikings
    Buzzy Pazz
    Blue Bike
    Brede School
    Open School
    Katholiek Onderwijs Vlaanderen
    Vlaamse Overheid
    Federale Overheid
    FOD Financiën
    Brugse Poort
    Nieuw Gent
    Oud Gentbrugge
    Sint Amandsberg
    Sint Niklaas
    Sint Truiden
    Park Spoor Noord
    Nieuw Zuid
    Het Eilandje
    Het Zuid
    Het Kiel
    Oud Borgerhout
    Sint Andries
    De Panne
    De Haan
    De Pinte
    La Louvière
    Vlaamse Ardennen
    Vlaamse Rand
    Noord Afrika
    Noord-Afrika
    Midden Oosten
    Nieuwe Kempen
    Lange Munte
    Hoog Kortrijk
    Sint Jan
    Verenigde Staten
    Verenigd Koninkrijk
    Sierra Leone
    Sri Lanka
    Burkina Faso
    Saudi Arabië
    Zuid-Afrika
    Ivoorkust
    """
)
"""Names of several words; matched case-insensitively on whole tokens."""


# --------------------------------------------------------------------------------------------
# Ordinary words
# --------------------------------------------------------------------------------------------

COMMON_WORDS: Final = _words(
    """
    de het een den der des 't deze die dit dat dat's zo zoals zulke welke welk wie wat waar
    wanneer waarom hoe hoeveel ik jij je u hij zij ze wij we jullie men iemand niemand
    iedereen alles niets iets er daar hier nu toen dan ook maar en of want dus omdat als
    hoewel terwijl sinds tot vanaf tijdens na voor bij in op aan met zonder door over onder
    naast tussen tegen rond volgens wegens ondanks om uit van naar binnen buiten boven
    achter ja nee neen niet geen wel nog al alle allemaal veel weinig meer minder meest
    sommige andere elk elke ieder iedere beide enkele verschillende meerdere heel erg zeer
    te vaak soms nooit altijd steeds meestal zelden opnieuw weer even eerst eerst daarna
    daarnaast daarom daardoor daarbij daarmee bovendien ook echter toch wellicht misschien
    waarschijnlijk vermoedelijk blijkbaar helaas gelukkig jammer spijtig eigenlijk vooral
    zeker zelfs enkel alleen slechts bijna ongeveer ruim gisteren vandaag morgen
    vanmorgen vanochtend vanmiddag vanavond overmorgen eergisteren vorige vorig volgende
    volgend afgelopen komende laatste eerste tweede derde vierde begin einde midden week
    weekend maand jaar schooljaar dag nacht ochtend avond middag
    is zijn was waren ben bent wordt worden werd werden heeft hebben had hadden kan kunnen
    kon konden moet moeten moest moesten mag mogen mocht wil willen wilde zou zouden zal
    zullen gaat gaan ging gingen komt komen kwam kwamen blijkt blijken lijkt lijken zegt
    zeggen zei vertelt vertelde vraagt vroeg vragen krijgt krijgen kreeg kregen geeft geven
    gaf weet weten wist ziet zien zag vindt vinden vond staat staan stond ligt liggen lag
    belde belt mailde meldt meldde merkt merkten stelt stellen heb hebt graag laat laten
    let graag zorg zorgen ook probeer probeerde
    oké ok okay sorry dank bedankt hallo hoi beste dag groeten vriendelijke groet mvg
    ouder ouders moeder moeders vader vaders mama mama's papa papa's ma pa kind kinderen
    kindje kinderen kids gezin gezinnen familie families jongere jongeren jongen jongens
    meisje meisjes baby baby's peuter peuters kleuter kleuters tiener tieners leerling
    leerlingen student studenten mensen persoon personen vrouw vrouwen man mannen buren
    buurman buurvrouw vrijwilliger vrijwilligers bewoner bewoners huurder huurders
    nieuwkomers alleenstaande alleenstaanden grootouders oma opa broer zus broers zussen
    zoon zonen dochter dochters juf juffrouw meester leerkracht leerkrachten leraar leraren
    directeur directrice directie school scholen basisschool secundaire middelbare lagere
    kleuterschool klas klassen klasgenoten speelplaats refter turnzaal oudercontact
    oudercafé huiswerkklas huiswerk schooluitstap uitstap zeeklassen bosklassen
    sportdag schoolreis factuur facturen rekening rekeningen schoolfactuur schoolkosten
    huur huurwaarborg energie elektriciteit verwarming water gas woning woningen huis
    huizen appartement kamer kamers schimmel vocht wachtlijst wachtlijsten wachttijd
    probleem problemen vraag vragen signaal signalen melding meldingen opmerking noot
    situatie context aanvulling update oplossing oplossingen voorstel actie acties gevolg
    gevolgen reden oorzaak conclusie samenvatting beschrijving contact contacten adres
    telefoon tel gsm naam namen datum leeftijd afkomst taal talen nationaliteit
    dienst diensten centrum stad gemeente sociale sociaal team project projecten afdeling
    loket punt werking raad commissie overheid regering minister schepen burgemeester
    gemeenteraad maatschappelijk maatschappelijke werker werkster assistent assistente
    consulent consulente begeleider begeleidster begeleiding hulpverlener hulpverleners
    coach coördinator zorgcoördinator brugfiguur brugfiguren schoolcoach opgroeicoach
    huisarts dokter dokters arts tandarts apotheek apotheker ziekenhuis spoed politie agent
    wijkagent rechter jeugdrechter advocaat notaris deurwaarder vrederechter
    vzw organisatie organisaties vereniging verenigingen partner partners netwerk
    welzijn armoede kinderarmoede onderwijs gezondheid wonen werk vrije tijd mobiliteit
    digitaal participatie inkomen schulden schuld budget budgetbeheer budgetbegeleiding
    collectieve schuldenregeling leefloon uitkering werkloosheid ziekte invaliditeit
    bus tram trein fiets auto abonnement ticket pas kaart
    stuurgroep bundel beleidsbundel trekker terugkoppeling agenda verslag
    oude nieuwe nieuw oud grote groot kleine klein lange lang korte kort hoge hoog lage laag
    brede breed smalle vrije openbare openbaar algemene algemeen lokale lokaal vlaamse
    federale centrale centraal stedelijke stedelijk gemeentelijke gemeentelijk provinciale
    koninklijk koninklijke sint heilige onze lieve vrouw
    straat laan plein weg kaai lei hof markt vest dijk berg baan wijk park dreef poort
    kouter dries ring singel brug kade dok plaats hoek steenweg rue avenue chaussée
    boulevard place quai
    bond zonder samen thuis buurt buurten wijken wijkcentrum buurtcentrum buurtwerk
    opbouwwerk jeugdwerk jeugdhuis jeugdcentrum speelplein speelpleinwerking sportclub
    voetbalclub sporthal zwembad bibliotheek bib academie muziekacademie cultuurcentrum
    kerk moskee tempel synagoge kinderopvang crèche creche opvang voedselbank voedselhulp
    kringwinkel restaurant kruidenier winkel supermarkt markt campus instituut atheneum
    college lyceum campus
    leerjaar studiedag gezondheidszorg
    noord zuid oost west noorden zuiden oosten westen boven beneden binnenstad rand
    let op nb ps bv vb tav
    """
)
"""Ordinary words that may be capitalised: at sentence start, in a title, in the name of an
organisation ("Sociale Dienst", "Bond Zonder Naam"). Never a name on their own."""

ORG_SUFFIXES: Final = (
    "school",
    "huis",
    "centrum",
    "club",
    "werking",
    "fonds",
    "dienst",
    "opvang",
    "winkel",
    "bank",
    "punt",
    "loket",
    "team",
    "project",
    "werk",
    "raad",
    "groep",
    "netwerk",
    "kliniek",
    "instituut",
    "atheneum",
    "college",
    "lyceum",
    "academie",
    "zaal",
    "hal",
    "kerk",
    "moskee",
    "vzw",
    "pas",
    "toelage",
    "kaart",
)
"""A capitalised word ending in one of these is an organisation or a thing ("Sint-Jozefschool",
"Vluchtelingenwerk", "Jeugdhuis"), never a name; a capitalised name right after it is the
organisation's name ("Jeugdhuis Kompas", "Basisschool De Regenboog")."""

PLACE_SUFFIXES: Final = ("buurt", "kwartier", "dorp", "dokken", "wijk", "polder", "meersen")
"""A capitalised word ending in one of these names a neighbourhood ("Stationsbuurt",
"Westerkwartier"), never a person."""

TITLE_ADJECTIVES: Final = _words(
    """
    oude oud nieuwe nieuw grote groot kleine klein lange korte hoge hoog lage brede smalle
    heilig heilige onze noord zuid oost west opper neder boven
    """
)
"""Adjectives that open the names of places and institutions ("Oude Dokken", "Heilig Hart",
"Nieuwe Kempen"): the capitalised word after them is part of that name, even when the
adjective opens the sentence. (A name after them is still caught if it is on a list.)"""

STREET_SUFFIXES_STRONG: Final = ("straat", "straatje", "laan", "steenweg", "dreef")
"""Unmistakable street words: also recognised when typed in lower case ("kerkstraat 12")."""

STREET_SUFFIXES: Final = (
    *STREET_SUFFIXES_STRONG,
    "plein",
    "pleintje",
    "weg",
    "kaai",
    "lei",
    "hof",
    "markt",
    "vest",
    "dijk",
    "berg",
    "baan",
    "wijk",
    "park",
    "pad",
    "singel",
    "gracht",
    "dok",
    "kade",
    "ring",
    "plaats",
    "veld",
    "velden",
    "hoek",
    "dries",
    "kouter",
    "dam",
    "brug",
    "poort",
    "gang",
    "steeg",
    "wegel",
    "vliet",
    "meers",
    "meersen",
    "akker",
    "heide",
    "bos",
    "beemd",
    "donk",
    "broek",
    "dal",
    "hoeve",
    "tuin",
    "hoven",
    "rei",
    "reke",
    "reep",
    "vaart",
    "wal",
    "kant",
    "molen",
    "laar",
    "oever",
    "weide",
    "erf",
    "werf",
    "dorp",
    "haven",
    "boulevard",
    "promenade",
    "square",
    "kapel",
    "kamp",
)
"""Endings of street names. Capitalised and followed by a house number they are a street."""

STREET_PREFIX_WORDS: Final = _words(
    """
    oude nieuwe grote kleine lange korte hoge lage brede smalle sint onze lieve vrouw
    koning koningin prins prinses graaf gravin burgemeester pastoor dokter generaal kolonel
    kapitein professor pater kardinaal heilige gebroeders
    """
)
"""Capitalised words that open street names ("Oude Houtlei", "Grote Markt")."""

FRENCH_STREET_HEADS: Final = (
    "Rue",
    "Avenue",
    "Av.",
    "Chaussée",
    "Boulevard",
    "Bd",
    "Place",
    "Square",
    "Quai",
    "Chemin",
    "Allée",
    "Impasse",
    "Drève",
    "Clos",
)

COUNT_NOUNS: Final = _words(
    """
    kind kinderen kindjes gezin gezinnen familie families ouder ouders mama's papa's
    moeders vaders jongeren jongens meisjes leerlingen kleuters baby's mensen personen
    bewoners huurders woningen huizen appartementen keer maal procent euro eur jaar jaren
    maanden maand weken week dagen dag uur uren minuten min km meter m² plaatsen stuks
    aanvragen dossiers meldingen signalen klassen scholen nieuwe andere extra
    """
)
"""A number followed by one of these counts something ("in de Kerkstraat 12 gezinnen"): not
a house number."""

ABBREVIATIONS: Final = _words(
    """
    mevr dhr mr mw mme dr bv vb nl ca resp zgn tav ipv mbt adhv oa evt enz etc nr tel
    gsm fam st prof ing lic
    """
)
"""Words that end with a full stop without ending the sentence ("mevr. Peeters", "bv. Gent")."""

NAMES_ALSO_WORDS: Final = _words(
    """
    frans mei juni juli april augustus brecht roma jordan israel paris florence victoria
    georgia hope iman
    """
)
"""Names that are mostly something else in a signal (a language, a month, a town). Only
after a cue word are they names: "haar zoon Frans", "dochter April"."""

LOWERCASE_NAME_WORDS: Final = _words(
    """
    amber april aria berk bollen dries els engelen frank iris lama leen lies lieve loos mark
    mats maxime merel mees mortier ooms peter peters rob roman serge sultan tinne toon tuba
    junior ion prince hoop roos ben dan mag max wil will bo jade lente sterre rose nada ocean
    can said grace rim bah fien jean alpha tack sow hope jo lou noor emir ellen kaplan divine
    gloire merveille tresor trésor ange patience vera
    """
)
"""Names on the lists that are also words when written in lower case (Dutch, English or
French): "roos", "hoop", "max 3 kinderen", "peters" (godfathers). Typed in lower case they are
only names right after a cue ("juf roos")."""
