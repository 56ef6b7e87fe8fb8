"""Named domain profiles for the synthetic Amazon-2023 generator: vocabularies and defaults.

A profile holds what makes a domain read like itself: topics (each a category label plus word
lists that fill title and description templates), the domain-wide words, the templates, and the
behavioural defaults. ``recency`` in [0, 1] (higher = more interaction mass on recently released
items) follows the real data's ordering: Movies_and_TV and Books are old-heavy, the others more
recent. ``volume_trend`` is the yearly log-growth of interaction volume, chosen so that the
pretrain window's share of 2017-07..2023-04 interactions matches the real files (Movies 93 %,
Books 90 %, Video_Games 86 %, Sports 83 %, Cell 82 %, Health 81 %; the generated
files land within about 1.5 points of these).

Template slots: ``{mod}``/``{mod2}`` (two different topic modifiers), ``{noun}``/``{noun2}``,
``{kw}``/``{kw2}`` (topic keywords), ``{store}`` and any key of ``DomainProfile.slots``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Topic:
    """One latent topic of a domain: its category label and the words its items use."""

    name: str
    mods: tuple[str, ...]
    nouns: tuple[str, ...]
    kws: tuple[str, ...]


@dataclass(frozen=True)
class DomainProfile:
    """Vocabulary, templates and behavioural defaults of one named domain."""

    main_category: str
    root_category: str
    topics: tuple[Topic, ...]
    stores: tuple[str, ...]
    titles: tuple[str, ...]
    series_titles: tuple[str, ...]
    """Titles of series members: ``{number}`` is the member's position (1, 2, ...); every other
    slot takes the series' first member's words, so members share a recognisable name."""
    descriptions: tuple[str, ...]
    features: tuple[str, ...]
    details: tuple[tuple[str, str], ...]
    recency: float
    volume_trend: float
    price_median: float
    isbn_share: float = 0.0
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _t(name: str, mods: str, nouns: str, kws: str) -> Topic:
    return Topic(name, tuple(mods.split("|")), tuple(nouns.split("|")), tuple(kws.split("|")))


BOOKS = DomainProfile(
    main_category="Books",
    root_category="Books",
    topics=(
        _t(
            "Mystery, Thriller & Suspense",
            "Silent|Hidden|Last|Broken|Midnight|Cold|Dark|Missing|Lying",
            "Witness|Alibi|Confession|Harbor|Detective|Stranger|Suspect|Verdict|Secret",
            "mystery|thriller|crime|detective|suspense|murder|investigation",
        ),
        _t(
            "Romance",
            "Summer|Sweet|Second|Forbidden|Wild|Sunlit|Tender|Reckless|Royal",
            "Kiss|Promise|Heart|Wedding|Chance|Love|Bride|Cowboy|Duke",
            "romance|love|small-town|second-chance|enemies-to-lovers|happily-ever-after",
        ),
        _t(
            "Science Fiction & Fantasy",
            "Starborn|Iron|Shattered|Crimson|Eternal|Void|Arcane|Exiled|Galactic",
            "Empire|Dragon|Throne|Starship|Sorcerer|Kingdom|Colony|Prophecy|Realm",
            "fantasy|science-fiction|magic|space-opera|epic|dragons|galaxy",
        ),
        _t(
            "Cookbooks, Food & Wine",
            "Simple|Everyday|Italian|Plant-Based|Weeknight|Rustic|Healthy|Baking|Slow-Cooker",
            "Kitchen|Recipes|Table|Bread|Dinners|Pantry|Feasts|Meals|Cookbook",
            "cooking|recipes|baking|vegetarian|meal-prep|kitchen|flavor",
        ),
        _t(
            "Biographies & Memoirs",
            "Unlikely|Untold|American|Unbroken|Remarkable|Quiet|Fearless|Ordinary|Brave",
            "Life|Journey|Memoir|Years|Story|Legacy|Road|Childhood|Courage",
            "memoir|biography|true-story|family|history|resilience|inspiring",
        ),
        _t(
            "Children's Books",
            "Little|Sleepy|Brave|Silly|Curious|Tiny|Happy|Magic|Busy",
            "Bear|Bunny|Dinosaur|Dragon|Puppy|Owl|Tractor|Monster|Penguin",
            "picture-book|bedtime|kids|preschool|read-aloud|animals|friendship",
        ),
        _t(
            "Self-Help",
            "Atomic|Mindful|Unstoppable|Calm|Better|Fearless|Simple|Deep|Daily",
            "Habits|Mind|Focus|Success|Anxiety|Confidence|Purpose|Change|Life",
            "self-help|habits|motivation|productivity|mindset|wellbeing|personal-growth",
        ),
        _t(
            "History",
            "Forgotten|Great|Ancient|Lost|Bloody|Secret|Last|Civil|Cold",
            "War|Empire|Revolution|Battle|Dynasty|Republic|Frontier|Campaign|Century",
            "history|war|empire|ancient|revolution|military|nonfiction",
        ),
    ),
    stores=(
        "Penguin Random House",
        "HarperCollins",
        "Simon & Schuster",
        "Macmillan",
        "Hachette Book Group",
        "Scholastic",
        "Bloomsbury",
        "Tor Books",
        "Chronicle Books",
        "Independently published",
    ),
    titles=(
        "The {mod} {noun}",
        "The {mod} {noun}: A {kw} novel",
        "A {mod} {noun}",
        "The {noun} of {mod2} {noun2}",
        "{mod} {noun}s: {mod2} {kw} stories",
    ),
    series_titles=(
        "The {mod} {noun} ({series} Book {number})",
        "{mod} {noun}: {series}, Book {number}",
    ),
    descriptions=(
        "A {mod} {kw} story about a {noun} and the {noun2} that changes everything.",
        "From the bestselling author comes a {kw} tale of {kw2}, set in a {mod2} world.",
        "Perfect for readers who love {kw} and {kw2}.",
        "\u201cA {mod} triumph of {kw}.\u201d \u2014 {review_source}",
    ),
    features=(),
    details=(
        ("Publisher", "{store}"),
        ("Language", "English"),
        ("{binding}", "{pages} pages"),
        ("Reading age", "{reading_age}"),
    ),
    recency=0.25,
    volume_trend=-0.08,
    price_median=14.0,
    isbn_share=0.7,
    slots={
        "series": ("Harbor Town", "Chronicles", "Saga", "Trilogy", "Mysteries", "Legacy"),
        "review_source": ("Kirkus Reviews", "Publishers Weekly", "Booklist", "Library Journal"),
        "binding": ("Paperback", "Hardcover", "Mass Market Paperback"),
        "pages": ("192", "256", "320", "384", "416", "464", "512"),
        "reading_age": ("Adult", "Young Adult", "3 - 7 years", "8 - 12 years"),
    },
)

MOVIES = DomainProfile(
    main_category="Movies & TV",
    root_category="Movies & TV",
    topics=(
        _t(
            "Action & Adventure",
            "Deadly|Lethal|Final|Rogue|Savage|Explosive|Maximum|Ultimate|Iron",
            "Mission|Strike|Force|Vengeance|Fury|Assault|Pursuit|Justice|Warrior",
            "action|explosive|heist|martial-arts|chase|stunts|adventure",
        ),
        _t(
            "Comedy",
            "Crazy|Wedding|Holiday|Awkward|Bad|Road|Accidental|Big|Hilarious",
            "Trip|Neighbors|Vacation|Party|Roommates|Date|Family|Weekend|Office",
            "comedy|laugh-out-loud|family|slapstick|romantic-comedy|buddy",
        ),
        _t(
            "Drama",
            "Quiet|Broken|Distant|Endless|Fragile|Restless|Golden|Northern|Lonely",
            "Shore|Season|Road|Promise|River|Letters|House|Winter|Silence",
            "drama|award-winning|moving|powerful|emotional|character-driven",
        ),
        _t(
            "Horror",
            "Haunted|Cursed|Silent|Hollow|Bloody|Wicked|Possessed|Unholy|Sinister",
            "House|Curse|Ritual|Woods|Asylum|Doll|Cabin|Night|Grave",
            "horror|supernatural|terrifying|slasher|haunting|paranormal",
        ),
        _t(
            "Documentary",
            "Planet|Wild|Hidden|Secret|Ancient|Deep|Untamed|Frozen|Inside",
            "Earth|Oceans|Kingdoms|Wonders|Cities|Islands|Planets|Universe|Nature",
            "documentary|nature|wildlife|history|science|true-story",
        ),
        _t(
            "Kids & Family",
            "Magical|Little|Merry|Brave|Tiny|Enchanted|Jolly|Super|Adventurous",
            "Princess|Puppy|Dragon|Christmas|Robot|Kingdom|Dinosaur|Pirates|Friends",
            "family|animated|kids|musical|holiday|friendship",
        ),
        _t(
            "TV Series",
            "Complete|Northern|Royal|Silent|Hidden|Crown|Blue|Coastal|Midnight",
            "Detectives|Hospital|Precinct|Dynasty|County|Station|Agency|Manor|Unit",
            "tv-series|season|box-set|crime-drama|binge-worthy|episodes",
        ),
        _t(
            "Science Fiction",
            "Stellar|Quantum|Last|Dark|Red|Infinite|Alien|Cyber|Lunar",
            "Frontier|Planet|Signal|Colony|Invasion|Horizon|Machine|Orbit|Station",
            "sci-fi|space|aliens|time-travel|dystopian|future",
        ),
    ),
    stores=(
        "Universal Studios",
        "Warner Bros.",
        "Paramount",
        "Sony Pictures",
        "Lionsgate",
        "20th Century Studios",
        "Criterion Collection",
        "BBC",
        "Shout! Factory",
        "Disney",
    ),
    titles=(
        "The {mod} {noun} [{format}]",
        "{mod} {noun} ({format})",
        "{mod} {noun}: {mod2} {noun2}",
        "The {mod} {noun} Collection [{format}]",
    ),
    series_titles=(
        "{mod} {noun}: Season {number} [{format}]",
        "The {mod} {noun} - Season {number} ({format})",
    ),
    descriptions=(
        "A {mod} {kw} film about a {noun} on the edge of {kw2}.",
        "Experience the {kw} event of the year in stunning {format}.",
        "An award-winning cast brings this {kw2} story of the {mod2} {noun2} to life.",
        "Includes {bonus}.",
    ),
    features=(),
    details=(
        ("Aspect Ratio", "{aspect}"),
        ("MPAA rating", "{mpaa}"),
        ("Media Format", "{format}"),
        ("Run time", "{runtime}"),
        ("Studio", "{store}"),
    ),
    recency=0.15,
    volume_trend=-0.20,
    price_median=12.0,
    slots={
        "format": ("DVD", "Blu-ray", "4K UHD", "Prime Video", "Blu-ray + Digital"),
        "bonus": (
            "deleted scenes and a behind-the-scenes featurette",
            "director's commentary",
            "a digital copy",
            "a gag reel and interviews",
        ),
        "aspect": ("1.78:1", "2.35:1", "2.39:1", "1.85:1"),
        "mpaa": ("G", "PG", "PG-13", "R", "NR"),
        "runtime": ("1 hour 32 minutes", "1 hour 48 minutes", "2 hours 7 minutes", "6 hours"),
    },
)

VIDEO_GAMES = DomainProfile(
    main_category="Video Games",
    root_category="Video Games",
    topics=(
        _t(
            "Role-Playing Games",
            "Legendary|Eternal|Ancient|Final|Mystic|Fallen|Elder|Crystal|Shadow",
            "Quest|Legends|Chronicles|Saga|Realms|Odyssey|Kingdoms|Fantasy|Tales",
            "rpg|open-world|quests|story|fantasy|character-building",
        ),
        _t(
            "Shooter Games",
            "Tactical|Modern|Black|Global|Rogue|Elite|Frontline|Zero|Strike",
            "Warfare|Ops|Battlefield|Squad|Recon|Sniper|Combat|Siege|Protocol",
            "shooter|fps|multiplayer|battle-royale|tactical|online",
        ),
        _t(
            "Racing & Sports Games",
            "Ultimate|Pro|Turbo|Extreme|Championship|World|Street|Grand|Super",
            "Racing|Rally|Soccer|Basketball|Football|Golf|Kart|Drift|League",
            "racing|sports|career-mode|tournament|split-screen|cars",
        ),
        _t(
            "Headsets & Audio",
            "Wireless|Surround|Noise-Cancelling|Stereo|RGB|Pro|Lightweight|Over-Ear|7.1",
            "Headset|Headphones|Earbuds|Microphone|Sound Bar|Earpiece|Amp|Speaker|Mic",
            "headset|audio|surround-sound|microphone|wireless|noise-cancelling",
        ),
        _t(
            "Controllers",
            "Wireless|Pro|Elite|Ergonomic|Wired|Rechargeable|Turbo|Arcade|Dual",
            "Controller|Gamepad|Joystick|Fight Stick|Paddle|Joy-Con|Steering Wheel|Grip|Trigger",
            "controller|gamepad|vibration|ergonomic|rechargeable|turbo",
        ),
        _t(
            "Charging & Storage",
            "Fast|Dual|Portable|Compact|Cooling|Vertical|Slim|Hard|Travel",
            "Charging Dock|Stand|Case|Cooling Fan|Hard Drive|Memory Card|Carrying Case|Skin|Mount",
            "charging|storage|case|cooling|portable|accessory",
        ),
        _t(
            "Puzzle & Family Games",
            "Happy|Party|Super|Cozy|Tiny|Colorful|Crazy|Magic|Jolly",
            "Party|Island|Puzzle|Farm|Village|Friends|Adventure|Cooking|Pets",
            "family|party|puzzle|co-op|casual|kids",
        ),
    ),
    stores=(
        "Nintendo",
        "Sony",
        "Microsoft",
        "Electronic Arts",
        "Ubisoft",
        "Bandai Namco",
        "SteelSeries",
        "Razer",
        "PowerA",
        "Turtle Beach",
    ),
    titles=(
        "{mod} {noun} - {platform}",
        "{store} {mod} {noun} for {platform} - {color}",
        "{mod} {mod2} {noun} for {platform}",
        "{mod} {noun}: {mod2} Edition - {platform}",
    ),
    series_titles=(
        "{mod} {noun} {number} - {platform}",
        "{mod} {noun} {number}: {mod2} Edition - {platform}",
    ),
    descriptions=(
        "Dive into {mod} {kw} on {platform}.",
        "Built for {kw} with {kw2} and a {mod2} design.",
        "Compatible with {platform}; includes {bonus}.",
        "Hours of {kw} for players of every level.",
    ),
    features=(
        "{mod} {kw} performance",
        "Works with {platform}",
        "{kw2} design for long sessions",
    ),
    details=(
        ("Platform", "{platform}"),
        ("ESRB Rating", "{esrb}"),
        ("Manufacturer", "{store}"),
        ("Color", "{color}"),
    ),
    recency=0.75,
    volume_trend=0.03,
    price_median=30.0,
    slots={
        "platform": (
            "PS5",
            "PS4",
            "Xbox Series X",
            "Xbox One",
            "Nintendo Switch",
            "PC",
            "Meta Quest 2",
        ),
        "color": ("Black", "White", "Red", "Blue", "Camo", "Midnight Black"),
        "bonus": ("a USB-C cable", "bonus downloadable content", "a carrying pouch", "a manual"),
        "esrb": ("Everyone", "Everyone 10+", "Teen", "Mature 17+"),
    },
)

CELL_PHONES = DomainProfile(
    main_category="Cell Phones & Accessories",
    root_category="Cell Phones & Accessories",
    topics=(
        _t(
            "Cases, Holsters & Sleeves",
            "Shockproof|Slim|Clear|Rugged|Leather|Wallet|Magnetic|Glitter|Silicone",
            "Case|Cover|Bumper|Wallet Case|Folio|Holster|Sleeve|Shell|Skin",
            "case|protection|drop-proof|slim-fit|cover|grip",
        ),
        _t(
            "Screen Protectors",
            "Tempered|Privacy|Anti-Glare|Matte|Full-Coverage|Ultra-Clear|9H|Bubble-Free|Curved",
            "Screen Protector|Glass|Film|Lens Protector|Guard|Shield|Protector Kit|Cover|Film Set",
            "screen-protector|tempered-glass|scratch-resistant|privacy|bubble-free",
        ),
        _t(
            "Chargers & Power",
            "Fast|Wireless|USB-C|Dual-Port|Magnetic|Portable|20W|65W|GaN",
            "Charger|Power Bank|Wall Plug|Charging Pad|Car Charger|Adapter|Station|Battery|Dock",
            "charging|fast-charge|wireless-charging|power-delivery|battery|usb-c",
        ),
        _t(
            "Cables",
            "Braided|USB-C|Lightning|Fast-Charging|Right-Angle|Long|Durable|Retractable|Nylon",
            "Cable|Cord|Charging Cable|Adapter|Data Cable|Cable Pack|Splitter|Connector|Lead",
            "cable|usb-c|lightning|braided|data-sync|durable",
        ),
        _t(
            "Mounts & Stands",
            "Magnetic|Adjustable|Foldable|Dashboard|Vent|Bike|Desk|Tripod|Selfie",
            "Car Mount|Phone Holder|Stand|Tripod|Selfie Stick|Grip|Ring Holder|Cradle|Clamp",
            "mount|holder|hands-free|adjustable|stand|car",
        ),
        _t(
            "Earbuds & Audio",
            "Wireless|Bluetooth|True-Wireless|Noise-Cancelling|Sport|Waterproof|Mini|Bass|Open-Ear",
            "Earbuds|Headphones|Earphones|Speaker|Headset|Neckband|Ear Hooks|Buds|Pods",
            "bluetooth|earbuds|wireless-audio|noise-cancelling|bass|battery-life",
        ),
        _t(
            "Smartwatch Accessories",
            "Sport|Silicone|Stainless|Magnetic|Nylon|Breathable|Slim|Rugged|Leather",
            "Band|Strap|Watch Case|Charger Dock|Bumper|Loop|Bracelet|Protector|Link",
            "smartwatch|band|strap|fitness-tracker|watch|wristband",
        ),
    ),
    stores=(
        "Spigen",
        "OtterBox",
        "Anker",
        "Belkin",
        "ESR",
        "JETech",
        "Amazon Basics",
        "UGREEN",
        "Supershieldz",
        "Miracase",
    ),
    titles=(
        "{store} {mod} {noun} for {phone} - {color}",
        "{mod} {noun} Compatible with {phone}, {mod2} {kw} {noun2} - {color}",
        "{mod} {noun} for {phone} ({count})",
        "{store} {mod} {mod2} {noun} for {phone}",
    ),
    series_titles=(
        "{store} {mod} {noun} for {phone}, Gen {number} - {color}",
        "{store} {mod} {noun} Gen {number} for {phone}",
    ),
    descriptions=(
        "Designed for {phone} with {mod} {kw} and {kw2}.",
        "Precise cutouts and a {mod2} finish keep your {phone} ready for everyday use.",
        "Package includes: {noun} ({count}) and a user manual.",
        "Our {noun} delivers reliable {kw} in a {mod} design.",
    ),
    features=(
        "{mod} {kw} for {phone}",
        "{kw2} - built to last",
        "What you get: {count}",
    ),
    details=(
        ("Brand", "{store}"),
        ("Compatible Phone Models", "{phone}"),
        ("Color", "{color}"),
        ("Material", "{material}"),
    ),
    recency=0.85,
    volume_trend=0.10,
    price_median=15.0,
    slots={
        "phone": (
            "iPhone 14 Pro Max",
            "iPhone 13",
            "iPhone 12",
            "iPhone 11",
            "Galaxy S22",
            "Galaxy S23 Ultra",
            "Pixel 7",
            "Galaxy A13",
        ),
        "color": ("Black", "Clear", "Navy Blue", "Pink", "Purple", "Green", "Red", "White"),
        "count": ("1 Pack", "2 Pack", "3 Pack", "6 Pack"),
        "material": ("TPU", "Polycarbonate", "Tempered Glass", "Silicone", "Nylon", "Aluminum"),
    },
)

SPORTS = DomainProfile(
    main_category="Sports & Outdoors",
    root_category="Sports & Outdoors",
    topics=(
        _t(
            "Camping & Hiking",
            "Ultralight|Waterproof|Portable|Insulated|Compact|Backpacking|4-Season|Rugged|Packable",
            "Tent|Sleeping Bag|Backpack|Headlamp|Hammock|Water Filter|Trekking Poles|Stove|Lantern",
            "camping|hiking|backpacking|outdoor|trail|waterproof",
        ),
        _t(
            "Fitness & Exercise",
            "Adjustable|Resistance|Non-Slip|Heavy-Duty|Foldable|Weighted|Premium|Home|Pro",
            "Dumbbells|Yoga Mat|Resistance Bands|Kettlebell|Jump Rope|Pull-Up Bar|Foam Roller|Bench|Ab Wheel",
            "fitness|workout|strength-training|yoga|home-gym|exercise",
        ),
        _t(
            "Cycling",
            "Rechargeable|Aero|Padded|Mountain|Road|LED|Anti-Theft|Breathable|Lightweight",
            "Bike Light|Helmet|Bike Lock|Saddle|Cycling Shorts|Pump|Bike Rack|Gloves|Water Bottle Cage",
            "cycling|bike|mountain-biking|road-bike|commuter|safety",
        ),
        _t(
            "Fishing",
            "Saltwater|Freshwater|Braided|Spinning|Telescopic|Carbon|Ultralight|Tackle|Bass",
            "Fishing Rod|Reel|Fishing Line|Lures|Tackle Box|Hooks|Rod Holder|Net|Bait Kit",
            "fishing|bass|trout|tackle|angler|saltwater",
        ),
        _t(
            "Team Sports",
            "Official|Pro|Youth|Indoor|Outdoor|Training|Match|Composite|Leather",
            "Basketball|Soccer Ball|Baseball Glove|Football|Volleyball|Hockey Stick|Shin Guards|Cones|Net",
            "team-sports|training|match|youth-league|practice|athletes",
        ),
        _t(
            "Hunting & Shooting",
            "Tactical|Camo|Adjustable|Waterproof|Rechargeable|Scent-Free|Quick-Release|Padded|Compact",
            "Rangefinder|Scope|Tree Stand|Game Camera|Gun Case|Bipod|Decoy|Blind|Sling",
            "hunting|tactical|game|outdoor|camo|range",
        ),
        _t(
            "Water Sports",
            "Inflatable|Quick-Dry|Anti-Fog|Adjustable|Waterproof|UV-Protective|Floating|Adult|Kids",
            "Paddle Board|Kayak Paddle|Life Jacket|Swim Goggles|Snorkel Set|Dry Bag|Rash Guard|Swim Cap|Fins",
            "swimming|paddling|kayak|snorkeling|beach|water",
        ),
    ),
    stores=(
        "Coleman",
        "CAP Barbell",
        "Amazon Basics",
        "Gaiam",
        "Shimano",
        "Wilson",
        "Intex",
        "Bushnell",
        "Teton Sports",
        "Schwinn",
    ),
    titles=(
        "{store} {mod} {noun}",
        "{mod} {noun} for {user} - {mod2} {kw} {noun2}",
        "{mod} {noun}, {size}, {color}",
        "{store} {mod} {mod2} {noun} ({size})",
    ),
    series_titles=(
        "{store} {mod} {noun} {number}.0, {size}",
        "{store} {mod} {noun} {number}.0 for {user} - {color}",
    ),
    descriptions=(
        "A {mod} {noun} made for {kw} and {kw2}.",
        "Whether you are a beginner or a pro, this {mod2} {noun} is ready for {kw}.",
        "Built from {material} for years of reliable use.",
        "Ideal for {user}.",
    ),
    features=(
        "{mod} design for {kw}",
        "Made of durable {material}",
        "Great for {user}",
    ),
    details=(
        ("Brand", "{store}"),
        ("Color", "{color}"),
        ("Size", "{size}"),
        ("Material", "{material}"),
    ),
    recency=0.6,
    volume_trend=0.13,
    price_median=25.0,
    slots={
        "user": ("Men and Women", "Adults", "Kids", "Beginners", "Outdoor Enthusiasts"),
        "size": ("Small", "Medium", "Large", "One Size", "2-Person", "10 lb", "27.5 inch"),
        "color": ("Black", "Olive Green", "Orange", "Blue", "Gray", "Red", "Camo"),
        "material": ("Aluminum", "Ripstop Nylon", "Neoprene", "Carbon Fiber", "Steel", "EVA Foam"),
    },
)

HEALTH = DomainProfile(
    main_category="Health & Personal Care",
    root_category="Health & Household",
    topics=(
        _t(
            "Vitamins & Supplements",
            "Extra-Strength|Organic|Vegan|Chewable|High-Potency|Non-GMO|Daily|Gluten-Free|Whole-Food",
            "Vitamin D3|Magnesium|Probiotic|Multivitamin|Omega-3 Fish Oil|Collagen|Zinc|Elderberry|Turmeric",
            "supplement|immune-support|vitamins|gut-health|energy|wellness",
        ),
        _t(
            "Household Cleaning",
            "Multi-Surface|Disinfecting|Unscented|Lemon|Concentrated|Plant-Based|Heavy-Duty|Streak-Free|Fresh",
            "Wipes|Cleaner|Spray|Detergent|Dish Soap|Sponges|Trash Bags|Paper Towels|Laundry Pods",
            "cleaning|disinfecting|household|laundry|kitchen|bathroom",
        ),
        _t(
            "Health Monitors",
            "Digital|Automatic|Upper-Arm|Fingertip|Infrared|Bluetooth|Fast-Reading|Portable|Large-Display",
            "Blood Pressure Monitor|Pulse Oximeter|Thermometer|Scale|Glucose Meter|Test Strips|Heart Monitor|Cuff|Sensor",
            "monitor|blood-pressure|oxygen|temperature|accurate|health-tracking",
        ),
        _t(
            "First Aid & Pain Relief",
            "Fast-Acting|Extra-Strength|Sterile|Waterproof|Cooling|Warming|Adhesive|Travel|Maximum",
            "Bandages|First Aid Kit|Pain Relief Cream|Heating Pad|Ice Pack|Knee Brace|Gauze|Patches|Compression Sleeve",
            "first-aid|pain-relief|recovery|injury|support|soothing",
        ),
        _t(
            "Sleep & Relaxation",
            "Natural|Calming|Weighted|Contoured|Cooling|Lavender|Melatonin|Memory-Foam|Quiet",
            "Sleep Aid|Eye Mask|Pillow|White Noise Machine|Essential Oil|Diffuser|Ear Plugs|Blanket|Gummies",
            "sleep|relaxation|stress-relief|calming|restful|bedtime",
        ),
        _t(
            "Oral Care",
            "Whitening|Sensitive|Fluoride-Free|Rechargeable|Waxed|Mint|Charcoal|Gentle|Cordless",
            "Toothpaste|Electric Toothbrush|Water Flosser|Floss|Mouthwash|Brush Heads|Whitening Strips|Tongue Scraper|Picks",
            "oral-care|whitening|gums|dental|fresh-breath|teeth",
        ),
        _t(
            "Sports Nutrition",
            "Unflavored|Chocolate|Vanilla|Grass-Fed|Keto|Low-Sugar|Plant-Based|Pre-Workout|Electrolyte",
            "Protein Powder|Creatine|Protein Bars|BCAA|Electrolyte Drink Mix|Shaker Bottle|Meal Replacement|Energy Gel|Collagen Peptides",
            "protein|muscle-recovery|workout|keto|hydration|nutrition",
        ),
    ),
    stores=(
        "Nature Made",
        "Clorox",
        "Omron",
        "Band-Aid",
        "Amazon Basics",
        "NOW Foods",
        "Philips Sonicare",
        "Optimum Nutrition",
        "Seventh Generation",
        "Vital Proteins",
    ),
    titles=(
        "{store} {mod} {noun}, {count}",
        "{mod} {noun} - {mod2} {kw} {noun2}, {count}",
        "{store} {noun}, {mod}, {count} ({pack})",
        "{mod} {mod2} {noun} for {user}",
    ),
    series_titles=(
        "{store} {mod} {noun} Step {number}, {count}",
        "{store} {mod} {noun} Regimen, Step {number} ({form})",
    ),
    descriptions=(
        "{mod} {noun} for daily {kw} and {kw2}.",
        "Trusted by families for {kw}; {mod2} formula.",
        "Contains {count}. Store in a cool, dry place.",
        "Suitable for {user}.",
    ),
    features=(
        "{mod} {kw}",
        "{kw2} you can trust",
        "Contains {count}",
    ),
    details=(
        ("Brand", "{store}"),
        ("Item Form", "{form}"),
        ("Unit Count", "{count}"),
        ("Age Range (Description)", "{user}"),
    ),
    recency=0.5,
    volume_trend=0.10,
    price_median=12.0,
    slots={
        "count": ("30 Count", "60 Count", "120 Count", "1 Pack", "3 Pack", "16 Ounce", "2 Pounds"),
        "pack": ("Pack of 1", "Pack of 2", "Pack of 3", "Pack of 6"),
        "user": ("Adults", "Men and Women", "Kids", "Seniors", "Whole Family"),
        "form": ("Capsule", "Tablet", "Gummy", "Liquid", "Powder", "Spray", "Wipe"),
    },
)

PROFILES: dict[str, DomainProfile] = {
    "Books": BOOKS,
    "Movies_and_TV": MOVIES,
    "Video_Games": VIDEO_GAMES,
    "Cell_Phones_and_Accessories": CELL_PHONES,
    "Sports_and_Outdoors": SPORTS,
    "Health_and_Household": HEALTH,
}
