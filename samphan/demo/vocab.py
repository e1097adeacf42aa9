"""Word lists the demo generator draws from: names, places, catalogues, insights.

Thai names carry a romanised form, used for e-mail addresses the way Thai
people actually write them (somchai.jaidee…@gmail.com).
"""

from __future__ import annotations

# (Thai script, romanised)
THAI_MALE = [
    ("สมชาย", "somchai"), ("สมศักดิ์", "somsak"), ("ประเสริฐ", "prasert"), ("วิชัย", "wichai"),
    ("สุรชัย", "surachai"), ("ธนากร", "thanakorn"), ("ณัฐพล", "nattapon"), ("กิตติพงษ์", "kittipong"),
    ("อนุชา", "anucha"), ("ชัยวัฒน์", "chaiwat"), ("พงศกร", "pongsakorn"), ("ศุภชัย", "supachai"),
    ("อภิชาติ", "apichart"), ("ธีรวัฒน์", "teerawat"), ("วีระพงษ์", "weerapong"), ("จักรพันธ์", "jakkapan"),
    ("ปิยะพงษ์", "piyapong"), ("สุทธิพงษ์", "sutthipong"), ("ภานุวัฒน์", "panuwat"), ("ธนวัฒน์", "thanawat"),
    ("ณัฐวุฒิ", "nattawut"), ("กฤษดา", "kritsada"), ("ชาญวิทย์", "chanwit"), ("เอกชัย", "ekkachai"),
    ("อรรถพล", "attapon"), ("วรวุฒิ", "worawut"), ("ศักดิ์ชัย", "sakchai"), ("ธวัชชัย", "thawatchai"),
    ("นพดล", "noppadon"), ("ปกรณ์", "pakorn"), ("พีรพล", "peerapon"), ("ภูมิพัฒน์", "phumipat"),
    ("รัฐพล", "rattapon"), ("สิทธิชัย", "sitthichai"), ("อดิศักดิ์", "adisak"), ("ณัฐภัทร", "nattaphat"),
    ("ธนพล", "thanaphon"), ("กวิน", "kawin"), ("ภาคิน", "pakin"), ("ปัณณวิชญ์", "pannawit"),
]
THAI_FEMALE = [
    ("สมหญิง", "somying"), ("วิภา", "wipa"), ("สุดารัตน์", "sudarat"), ("นภา", "napa"),
    ("กาญจนา", "kanchana"), ("ปวีณา", "paweena"), ("ศิริพร", "siriporn"), ("อรอุมา", "onuma"),
    ("พิมพ์ชนก", "pimchanok"), ("ณัฐธิดา", "nattida"), ("ชนิดา", "chanida"), ("จิราพร", "jiraporn"),
    ("รัตนา", "rattana"), ("วรรณา", "wanna"), ("สุภาพร", "supaporn"), ("มณีรัตน์", "maneerat"),
    ("อัญชลี", "anchalee"), ("ธิดารัตน์", "thidarat"), ("กมลชนก", "kamonchanok"), ("ปิยะนุช", "piyanuch"),
    ("ศศิธร", "sasithorn"), ("นันทนา", "nantana"), ("เบญจวรรณ", "benjawan"), ("พรทิพย์", "pornthip"),
    ("ลลิตา", "lalita"), ("ชุติมา", "chutima"), ("ธัญญารัตน์", "thanyarat"), ("อรพรรณ", "orapan"),
    ("วรัญญา", "waranya"), ("สุนิสา", "sunisa"), ("ปาริชาติ", "parichat"), ("กัญญารัตน์", "kanyarat"),
    ("ณิชา", "nicha"), ("ภัทรา", "pattra"), ("พิชญา", "pitchaya"), ("อารีรัตน์", "areerat"),
    ("จันทร์เพ็ญ", "chanpen"), ("ดวงใจ", "duangjai"), ("ขวัญใจ", "kwanjai"), ("นฤมล", "naruemon"),
]
THAI_SURNAMES = [
    ("ใจดี", "jaidee"), ("ศรีสุข", "srisuk"), ("สุขสวัสดิ์", "suksawat"), ("วงศ์สวัสดิ์", "wongsawat"),
    ("รักไทย", "rakthai"), ("แสงทอง", "saengthong"), ("ทองดี", "thongdee"), ("บุญมา", "boonma"),
    ("ศรีวงศ์", "sriwong"), ("จันทร์แก้ว", "chankaew"), ("พรหมมา", "phromma"), ("มั่นคง", "mankong"),
    ("เจริญสุข", "charoensuk"), ("ประเสริฐศักดิ์", "prasertsak"), ("สมบูรณ์", "somboon"),
    ("กิตติวงศ์", "kittiwong"), ("ชัยมงคล", "chaimongkol"), ("ธนสาร", "thanasan"), ("รุ่งเรือง", "rungruang"),
    ("ศิริวัฒน์", "siriwat"), ("พงษ์พานิช", "pongpanich"), ("อินทร์แก้ว", "inkaew"), ("แก้วมณี", "kaewmanee"),
    ("บุญเรือง", "boonruang"), ("ทองคำ", "thongkham"), ("สายสุวรรณ", "saisuwan"), ("วัฒนากุล", "wattanakul"),
    ("ลิ้มสกุล", "limsakul"), ("ตั้งจิตต์", "tangjit"), ("เตชะวณิช", "techawanich"), ("ศักดิ์สิทธิ์", "saksit"),
    ("นาคสวัสดิ์", "naksawat"), ("ปัญญาดี", "panyadee"), ("คงเจริญ", "kongcharoen"), ("อุดมสุข", "udomsuk"),
    ("เพชรรัตน์", "petcharat"), ("สุวรรณรัตน์", "suwannarat"), ("จิตรประเสริฐ", "jitprasert"),
    ("กาญจนวงศ์", "kanchanawong"), ("วิริยะกุล", "wiriyakul"), ("แซ่ลิ้ม", "saelim"), ("แซ่ตั้ง", "saetang"),
    ("โชติช่วง", "chotchuang"), ("ศรีสวัสดิ์", "srisawat"), ("มหาวงศ์", "mahawong"), ("ธรรมรักษ์", "thammarak"),
    ("บุญประเสริฐ", "boonprasert"), ("เกษมสุข", "kasemsuk"), ("ภักดี", "pakdee"), ("สิทธิโชค", "sitthichok"),
]
# English nicknames Thai people go by.
NICK_MALE = ["Bank", "Beam", "Boss", "Pond", "Benz", "Golf", "Top", "Earth", "Tong", "Film", "Arm",
             "Champ", "Palm", "Jay", "Nut", "Tar", "Ice", "Book", "Game", "New"]
NICK_FEMALE = ["Mint", "Ploy", "Fern", "Nok", "Bee", "Bow", "Aom", "Pim", "Ning", "May", "Toey",
               "Nan", "Gift", "Pam", "Fah", "Kwan", "Milk", "Praew", "Mook", "Namwan"]

INTL_MALE = ["James", "John", "Michael", "David", "Daniel", "Thomas", "Lukas", "Hiroshi", "Kenji", "Wei",
             "Jun", "Arjun", "Rahul", "Oliver", "Noah", "Liam", "Ethan", "Matteo", "Pierre", "Hans",
             "Minh", "Alexander", "Ben", "Ryan", "Chris", "Mark", "Paul", "Tom", "Sam", "Joon"]
INTL_FEMALE = ["Emma", "Olivia", "Sophie", "Anna", "Emily", "Sarah", "Yuki", "Sakura", "Mei", "Lin",
               "Priya", "Aisha", "Chloe", "Grace", "Hannah", "Julia", "Laura", "Maria", "Nina", "Rachel",
               "Lisa", "Jessica", "Amy", "Kate", "Mia", "Isabella", "Charlotte", "Hana", "Linh", "Claire"]
# (as written, as in an e-mail address)
INTL_SURNAMES = [
    ("Smith", "smith"), ("Johnson", "johnson"), ("Brown", "brown"), ("Taylor", "taylor"),
    ("Wilson", "wilson"), ("Anderson", "anderson"), ("Thompson", "thompson"), ("White", "white"),
    ("Martin", "martin"), ("Lee", "lee"), ("Walker", "walker"), ("Müller", "mueller"),
    ("Schmidt", "schmidt"), ("Rossi", "rossi"), ("Dubois", "dubois"), ("Tanaka", "tanaka"),
    ("Suzuki", "suzuki"), ("Sato", "sato"), ("Wang", "wang"), ("Chen", "chen"), ("Li", "li"),
    ("Zhang", "zhang"), ("Kim", "kim"), ("Park", "park"), ("Nguyen", "nguyen"), ("Tran", "tran"),
    ("Patel", "patel"), ("Sharma", "sharma"), ("Singh", "singh"), ("Garcia", "garcia"),
    ("Rodriguez", "rodriguez"), ("Lopez", "lopez"), ("O'Brien", "obrien"), ("Murphy", "murphy"),
    ("Jensen", "jensen"), ("Larsen", "larsen"), ("Novak", "novak"), ("Kowalski", "kowalski"),
    ("Cohen", "cohen"), ("Fischer", "fischer"),
]

EMAIL_DOMAINS = [("gmail.com", 55), ("hotmail.com", 16), ("outlook.com", 8), ("yahoo.com", 6),
                 ("icloud.com", 6), ("live.com", 3), ("outlook.co.th", 2), ("yahoo.co.th", 2), ("proton.me", 2)]

# (province, weight)
CITIES = [
    ("กรุงเทพมหานคร", 42), ("นนทบุรี", 7), ("สมุทรปราการ", 5), ("ปทุมธานี", 4), ("ชลบุรี", 5),
    ("เชียงใหม่", 7), ("ขอนแก่น", 4), ("ภูเก็ต", 4), ("นครราชสีมา", 4), ("สงขลา", 3), ("อุดรธานี", 3),
    ("เชียงราย", 2), ("สุราษฎร์ธานี", 2), ("พระนครศรีอยุธยา", 2), ("นครปฐม", 2), ("ระยอง", 2),
    ("อุบลราชธานี", 2),
]

# (channel label, weight). Marketplaces and chat apps dominate Thai online sales.
CHANNELS = [
    ("LINE", 24), ("Facebook", 12), ("Shopee", 18), ("Lazada", 10), ("TikTok Shop", 6), ("Website", 5),
    ("สาขาสยามสแควร์", 9), ("สาขานิมมาน เชียงใหม่", 6), ("สาขาขอนแก่น", 4), ("สาขาภูเก็ต", 4),
    ("สาขาเซ็นทรัลเวิลด์", 2),
]

ORG_ROOTS_TH = ["สยามพัฒนา", "เจ้าพระยา", "ล้านนา", "อันดามัน", "ดอกบัวทอง", "ช้างเผือก", "กล้วยไม้",
                "รุ่งอรุณ", "ทองเจริญ", "ฟ้าใส", "ใบชา", "บ้านสวน", "ตะวันออก", "สุขใจ", "มุมสบาย"]
ORG_ROOTS_EN = ["Siam", "Chao Phraya", "Lanna", "Andaman", "Golden Lotus", "Blue Elephant", "Orchid",
                "Sukhumvit", "Riverside", "Bangkok Digital", "Pacific Rim", "Green Leaf", "Thai Star",
                "Mekong", "Krungthep"]
ORG_SHOP_TH = ["ร้าน{}", "ร้าน{} สาขา 2", "{}มาร์ท", "{}คาเฟ่"]
ORG_SHOP_EN = ["{} Café", "{} Mart", "{} Boutique", "{} Store", "{} Concept Store"]
ORG_CORP_TH = ["บริษัท {} จำกัด", "บริษัท {} จำกัด (มหาชน)", "ห้างหุ้นส่วนจำกัด {}"]
ORG_CORP_EN = ["{} Co., Ltd.", "{} Group Public Co., Ltd.", "{} Trading Co., Ltd.", "{} Holdings"]

# A catalogue line: (sku prefix, Thai name, English name, category, price THB, popularity)
CATALOGUES: dict[str, list[tuple[str, str, str, str, int, float]]] = {
    "coffee": [
        ("COF", "เอสเปรสโซ่", "Espresso", "กาแฟ Coffee", 55, 3),
        ("COF", "อเมริกาโน่เย็น", "Iced Americano", "กาแฟ Coffee", 65, 14),
        ("COF", "ลาเต้เย็น", "Iced Latte", "กาแฟ Coffee", 75, 20),
        ("COF", "คาปูชิโน่ร้อน", "Hot Cappuccino", "กาแฟ Coffee", 70, 6),
        ("COF", "มอคค่าเย็น", "Iced Mocha", "กาแฟ Coffee", 80, 7),
        ("COF", "คาราเมลมัคคิอาโต้", "Caramel Macchiato", "กาแฟ Coffee", 90, 6),
        ("COF", "เอสเย็น", "Thai Es-Yen", "กาแฟ Coffee", 70, 9),
        ("COF", "กาแฟโบราณ", "Old-style Thai Coffee", "กาแฟ Coffee", 45, 8),
        ("COF", "โคลด์บรูว์", "Cold Brew", "กาแฟ Coffee", 95, 5),
        ("COF", "ดริปดอยช้าง", "Doi Chang Pour-over", "กาแฟ Coffee", 120, 3),
        ("COF", "ลาเต้นมโอ๊ต", "Oat Milk Latte", "กาแฟ Coffee", 95, 6),
        ("TEA", "ชาไทยเย็น", "Thai Iced Tea", "ชาและเครื่องดื่ม Tea & drinks", 60, 10),
        ("TEA", "มัทฉะลาเต้", "Matcha Latte", "ชาและเครื่องดื่ม Tea & drinks", 85, 7),
        ("TEA", "ชามะนาว", "Lemon Tea", "ชาและเครื่องดื่ม Tea & drinks", 55, 4),
        ("TEA", "โกโก้เย็น", "Iced Cocoa", "ชาและเครื่องดื่ม Tea & drinks", 70, 5),
        ("TEA", "นมสดคาราเมล", "Caramel Fresh Milk", "ชาและเครื่องดื่ม Tea & drinks", 65, 3),
        ("BAK", "ครัวซองต์เนยสด", "Butter Croissant", "เบเกอรี่ Bakery", 75, 6),
        ("BAK", "ขนมปังสังขยาใบเตย", "Pandan Custard Toast", "เบเกอรี่ Bakery", 89, 4),
        ("BAK", "เค้กมะพร้าวอ่อน", "Young Coconut Cake", "เบเกอรี่ Bakery", 110, 3),
        ("BAK", "บราวนี่", "Brownie", "เบเกอรี่ Bakery", 79, 3),
        ("BAK", "ชีสเค้กหน้าไหม้", "Basque Cheesecake", "เบเกอรี่ Bakery", 135, 3),
        ("BAK", "แซนด์วิชแฮมชีส", "Ham & Cheese Sandwich", "เบเกอรี่ Bakery", 119, 3),
        ("BEA", "เมล็ดกาแฟดอยช้าง 250 ก.", "Doi Chang Beans 250 g", "เมล็ดกาแฟ Beans", 390, 2),
        ("BEA", "เมล็ดกาแฟน่าน 250 ก.", "Nan Beans 250 g", "เมล็ดกาแฟ Beans", 420, 1),
        ("BEA", "กาแฟดริปแบบซอง 10 ซอง", "Drip Bags x10", "เมล็ดกาแฟ Beans", 290, 2),
        ("MER", "แก้วเก็บความเย็น", "Insulated Tumbler", "ของที่ระลึก Merchandise", 590, 1),
        ("MER", "ดริปเปอร์เซรามิก", "Ceramic Dripper", "ของที่ระลึก Merchandise", 450, 0.5),
        ("MER", "บัตรของขวัญ 500 บาท", "Gift Card 500 THB", "ของที่ระลึก Merchandise", 500, 0.5),
    ],
    "fashion": [
        ("SLK", "ผ้าพันคอไหมไทย", "Thai Silk Scarf", "ผ้าไหม Silk", 890, 10),
        ("SLK", "ผ้าไหมมัดหมี่ 2 เมตร", "Mudmee Silk 2 m", "ผ้าไหม Silk", 2400, 4),
        ("SLK", "ผ้าซิ่นไหม", "Silk Pha Sin", "ผ้าไหม Silk", 3200, 3),
        ("SLK", "เนคไทไหมไทย", "Thai Silk Tie", "ผ้าไหม Silk", 690, 4),
        ("CLO", "เสื้อเชิ้ตลินินสีขาว", "White Linen Shirt", "เสื้อผ้า Clothing", 1290, 8),
        ("CLO", "เสื้อขาวใส่ทำบุญ", "White Merit-making Blouse", "เสื้อผ้า Clothing", 790, 7),
        ("CLO", "ชุดเดรสผ้าฝ้าย", "Cotton Dress", "เสื้อผ้า Clothing", 1590, 6),
        ("CLO", "กางเกงเล", "Fisherman Pants", "เสื้อผ้า Clothing", 350, 9),
        ("CLO", "เสื้อยืดลายช้าง", "Elephant T-shirt", "เสื้อผ้า Clothing", 390, 9),
        ("CLO", "เสื้อม่อฮ่อม", "Mor Hom Shirt", "เสื้อผ้า Clothing", 450, 4),
        ("CLO", "เสื้อโปโล", "Polo Shirt", "เสื้อผ้า Clothing", 690, 5),
        ("ACC", "กระเป๋าคลัตช์ผ้าไหม", "Silk Clutch", "กระเป๋าและเครื่องประดับ Bags & accessories", 1490, 4),
        ("ACC", "กระเป๋าสาน", "Woven Basket Bag", "กระเป๋าและเครื่องประดับ Bags & accessories", 990, 5),
        ("ACC", "ต่างหูเงิน", "Silver Earrings", "กระเป๋าและเครื่องประดับ Bags & accessories", 690, 4),
        ("ACC", "ผ้าเช็ดหน้า", "Handkerchief", "กระเป๋าและเครื่องประดับ Bags & accessories", 150, 3),
        ("ACC", "หมวกสาน", "Straw Hat", "กระเป๋าและเครื่องประดับ Bags & accessories", 390, 3),
        ("HOM", "ปลอกหมอนไหม", "Silk Cushion Cover", "ของแต่งบ้าน Home", 590, 3),
        ("HOM", "ผ้าปูโต๊ะไหม", "Silk Table Runner", "ของแต่งบ้าน Home", 790, 2),
    ],
    "retail": [
        ("LIV", "เทียนหอมตะไคร้", "Lemongrass Scented Candle", "ของใช้ Home & living", 290, 5),
        ("LIV", "สบู่สมุนไพร", "Herbal Soap", "ของใช้ Home & living", 120, 8),
        ("LIV", "ยาดมสมุนไพร", "Herbal Inhaler", "ของใช้ Home & living", 59, 10),
        ("LIV", "น้ำมันมะพร้าวสกัดเย็น", "Cold-pressed Coconut Oil", "ของใช้ Home & living", 199, 4),
        ("LIV", "ลูกประคบสมุนไพร", "Herbal Compress Ball", "ของใช้ Home & living", 150, 3),
        ("SNK", "ทุเรียนอบกรอบ", "Freeze-dried Durian", "ขนมและของฝาก Snacks", 250, 6),
        ("SNK", "มะม่วงอบแห้ง", "Dried Mango", "ขนมและของฝาก Snacks", 120, 7),
        ("SNK", "ข้าวหอมมะลิ 5 กก.", "Jasmine Rice 5 kg", "ขนมและของฝาก Snacks", 235, 5),
        ("SNK", "น้ำพริกเผา", "Chilli Paste", "ขนมและของฝาก Snacks", 89, 4),
    ],
}
# The "retail" workspace sells a mix of everything.
CATALOGUES["retail"] = CATALOGUES["retail"] + CATALOGUES["coffee"][:12] + CATALOGUES["fashion"][:10]

# (kind, language, text, catalogue or "any")
INSIGHTS = [
    ("need", "th", "ซื้อเสื้อขาวไปทำบุญ", "fashion"),
    ("need", "th", "หาผ้าไหมใส่ไปงานแต่งงานของเพื่อน", "fashion"),
    ("need", "th", "อยากได้ของขวัญให้คุณแม่วันแม่", "any"),
    ("need", "th", "ต้องการใบกำกับภาษีเต็มรูปทุกครั้ง", "any"),
    ("need", "th", "อยากได้กาแฟหวานน้อยเพราะคุมน้ำหนัก", "coffee"),
    ("need", "en", "needs a full tax invoice for company expenses", "any"),
    ("need", "en", "looking for a gift for an overseas client", "any"),
    ("need", "en", "wants delivery to the office before 9 am", "coffee"),
    ("motive", "th", "ซื้อเพราะอยากสนับสนุนสินค้าชุมชน", "any"),
    ("motive", "th", "มาเพราะเพื่อนแนะนำ", "any"),
    ("motive", "th", "ซื้อตามรีวิวใน TikTok", "any"),
    ("motive", "en", "buys to support local farmers", "coffee"),
    ("motive", "en", "came through a friend's recommendation", "any"),
    ("personality", "th", "ชอบลองเมนูใหม่ทุกครั้ง", "coffee"),
    ("personality", "th", "คุยเก่ง เป็นกันเอง", "any"),
    ("personality", "th", "ตัดสินใจเร็ว ไม่ชอบรอ", "any"),
    ("personality", "en", "detail-oriented, asks many questions before buying", "any"),
    ("personality", "en", "early adopter of new collections", "fashion"),
    ("emotion", "th", "ไม่พอใจที่ได้ของช้า แต่หายโกรธเมื่อได้ส่วนลด", "any"),
    ("emotion", "th", "ประทับใจพนักงานสาขานิมมาน", "any"),
    ("emotion", "en", "delighted with the birthday surprise", "any"),
    ("emotion", "en", "frustrated by long queues at lunchtime", "coffee"),
    ("preference", "th", "ชอบหวานน้อย", "coffee"),
    ("preference", "th", "ชอบนมโอ๊ต", "coffee"),
    ("preference", "th", "ชอบสีพาสเทล", "fashion"),
    ("preference", "th", "ชอบรับโปรโมชันทาง LINE", "any"),
    ("preference", "en", "prefers oat milk", "coffee"),
    ("preference", "en", "prefers LINE over e-mail", "any"),
    ("preference", "en", "likes earth tones and natural fabrics", "fashion"),
    ("preference", "en", "prefers to pick up at the store", "any"),
    ("complaint", "th", "กาแฟหวานเกินไป", "coffee"),
    ("complaint", "th", "ไซซ์เล็กกว่าที่คิด", "fashion"),
    ("complaint", "th", "ส่งของช้าไป 3 วัน", "any"),
    ("complaint", "en", "order arrived late", "any"),
    ("complaint", "en", "the size ran small", "fashion"),
    ("complaint", "en", "got the wrong milk in the latte", "coffee"),
]

# Tag names, in the order they are created.
TAG_VIP = "VIP"
TAG_REGULAR = "ลูกค้าประจำ"
TAG_BARGAIN = "สายโปร"
TAG_NEW = "ลูกค้าใหม่"
TAG_CORPORATE = "ลูกค้าองค์กร"
TAG_INFLUENCER = "Influencer"
TAGS = [TAG_VIP, TAG_REGULAR, TAG_BARGAIN, TAG_NEW, TAG_CORPORATE, TAG_INFLUENCER]

MEMBER_TIERS = ["Member", "Silver", "Gold", "Platinum"]
