//! Parsing of WeCom callback XML: the envelope, every message and event kind the bot knows,
//! unknown kinds, malformed and hostile input, and deduplication keys.

use flowbot::adapters::wecom::crypto::{AesKey, CallbackCrypto};
use flowbot::adapters::wecom::message::{
    CardEvent, ContactChange, Envelope, Inbound, InboundKind, MediaKind, MediaMessage,
    MessageError, SelectedItem, UserFields, parse, parse_envelope,
};
use serde_json::Value;

fn vector(name: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/wecom-test-vectors.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone()
}

/// An event from `zhangsan` at 1700000000 to agent 1000002, with extra elements.
fn event(inner: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[ww0000000000000000]]></ToUserName>\
         <FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1700000000</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType>{inner}<AgentID>1000002</AgentID></xml>"
    )
}

fn kind(xml: &str) -> InboundKind {
    parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}")).kind
}

// ---------- text messages ----------

#[test]
fn text_vector_a1_with_cdata() {
    let v = vector("A1_doc_decrypt_message");
    let m = parse(v["expected"]["msg"].as_str().unwrap()).unwrap();
    assert_eq!(
        m,
        Inbound {
            to_user: "wx5823bf96d3bd56c7".into(),
            from_user: "mycreate".into(),
            create_time: 1409659813,
            agent_id: Some("218".into()),
            kind: InboundKind::Text {
                // Above 2^53: must survive as an exact string.
                msg_id: "4561255354251345929".into(),
                content: "hello".into(),
            },
        }
    );
    assert_eq!(m.dedupe_key(), "msg:218:4561255354251345929");
    assert_eq!(m.conversation(), "mycreate");
}

#[test]
fn text_vector_b2_without_cdata() {
    let v = vector("B2_python_sample_decrypt_message");
    let m = parse(v["expected"]["msg"].as_str().unwrap()).unwrap();
    assert_eq!(m.to_user, "ww1436e0e65a779aee");
    assert_eq!(m.from_user, "ChenJiaShun");
    assert_eq!(m.create_time, 1476422779);
    assert_eq!(m.agent_id.as_deref(), Some("1000002"));
    assert_eq!(
        m.kind,
        InboundKind::Text {
            msg_id: "1456453720".into(),
            content: "你好".into()
        }
    );
}

#[test]
fn text_vectors_d3_and_e3() {
    for (name, from, content, msg_id) in [
        (
            "D3_wechatpy_decrypt_message",
            "messense",
            "test",
            "4363689963896700987",
        ),
        (
            "E3_goworkwx_envelope_decrypt_message",
            "foobar",
            "x123",
            "2018405441",
        ),
    ] {
        let m = parse(vector(name)["expected"]["msg"].as_str().unwrap()).unwrap();
        assert_eq!(m.from_user, from);
        assert_eq!(
            m.kind,
            InboundKind::Text {
                msg_id: msg_id.into(),
                content: content.into()
            }
        );
    }
}

#[test]
fn text_content_keeps_whitespace_markup_and_entities() {
    let xml = "<xml><ToUserName>ww1</ToUserName><FromUserName>u</FromUserName>\
               <CreateTime>1</CreateTime><MsgType>text</MsgType>\
               <Content><![CDATA[  <b>hi</b> &amp; ]]></Content><MsgId>18446744073709551615</MsgId></xml>";
    assert_eq!(
        kind(xml),
        InboundKind::Text {
            msg_id: "18446744073709551615".into(),
            content: "  <b>hi</b> &amp; ".into()
        }
    );
    let plain = xml.replace(
        "<![CDATA[  <b>hi</b> &amp; ]]>",
        "a &lt;b&gt; &amp; &quot;c&apos; &#x4E2D;",
    );
    let InboundKind::Text { content, .. } = kind(&plain) else {
        panic!("not text")
    };
    assert_eq!(content, "a <b> & \"c' 中");
}

#[test]
fn msg_type_and_event_compare_case_insensitively() {
    let xml = "<xml><ToUserName>w</ToUserName><FromUserName>u</FromUserName>\
               <CreateTime>1</CreateTime><MsgType>TEXT</MsgType><Content>x</Content><MsgId>5</MsgId></xml>";
    assert!(matches!(kind(xml), InboundKind::Text { .. }));
    let click = event("<Event><![CDATA[CLICK]]></Event><EventKey>K</EventKey>")
        .replace("[event]", "[EVENT]");
    assert_eq!(kind(&click), InboundKind::MenuClick { key: "K".into() });
}

// ---------- events ----------

#[test]
fn menu_click_view_and_enter_agent() {
    assert_eq!(
        kind(&event(
            "<Event><![CDATA[click]]></Event><EventKey><![CDATA[menu:help]]></EventKey>"
        )),
        InboundKind::MenuClick {
            key: "menu:help".into()
        }
    );
    assert_eq!(
        kind(&event(
            "<Event>VIEW</Event><EventKey>https://example.com/a?b=1&amp;c=2</EventKey>"
        )),
        InboundKind::MenuView {
            url: "https://example.com/a?b=1&c=2".into()
        }
    );
    assert_eq!(
        kind(&event(
            "<Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey>"
        )),
        InboundKind::EnterAgent
    );
}

const CARD_WITH_SELECTION: &str = "\
<Event><![CDATA[template_card_event]]></Event>
<EventKey><![CDATA[approve]]></EventKey>
<TaskId><![CDATA[leave-20240101-0001]]></TaskId>
<CardType><![CDATA[vote_interaction]]></CardType>
<ResponseCode><![CDATA[resp-code-xyz]]></ResponseCode>
<SelectedItems>
  <SelectedItem>
    <QuestionKey><![CDATA[q1]]></QuestionKey>
    <OptionIds>
      <OptionId><![CDATA[opt_a]]></OptionId>
      <OptionId><![CDATA[opt_b]]></OptionId>
    </OptionIds>
  </SelectedItem>
  <SelectedItem>
    <QuestionKey>q2</QuestionKey>
    <OptionIds><OptionId>opt_c</OptionId></OptionIds>
  </SelectedItem>
</SelectedItems>";

#[test]
fn template_card_event_with_selected_items() {
    let m = parse(&event(CARD_WITH_SELECTION)).unwrap();
    assert_eq!(
        m.kind,
        InboundKind::TemplateCardEvent(CardEvent {
            event_key: "approve".into(),
            task_id: "leave-20240101-0001".into(),
            card_type: "vote_interaction".into(),
            response_code: "resp-code-xyz".into(),
            selected_items: vec![
                SelectedItem {
                    question_key: "q1".into(),
                    option_ids: vec!["opt_a".into(), "opt_b".into()],
                },
                SelectedItem {
                    question_key: "q2".into(),
                    option_ids: vec!["opt_c".into()],
                },
            ],
        })
    );
    assert_eq!(
        m.dedupe_key(),
        "evt:1000002:zhangsan:1700000000:template_card_event:approve:leave-20240101-0001:"
    );
}

#[test]
fn template_card_event_without_selected_items() {
    let xml = event(
        "<Event>template_card_event</Event><EventKey>leave:reject:0001</EventKey>\
         <TaskId>t_1</TaskId><CardType>button_interaction</CardType><ResponseCode>rc</ResponseCode>",
    );
    let InboundKind::TemplateCardEvent(card) = kind(&xml) else {
        panic!("not a card event")
    };
    assert_eq!(card.event_key, "leave:reject:0001");
    assert_eq!(card.task_id, "t_1");
    assert_eq!(card.card_type, "button_interaction");
    assert_eq!(card.response_code, "rc");
    assert!(card.selected_items.is_empty());
}

fn contact(inner: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[ww0000000000000000]]></ToUserName>\
         <FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000001</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>{inner}</xml>"
    )
}

#[test]
fn change_contact_create_user_with_all_fields() {
    let m = parse(&contact(
        "<ChangeType><![CDATA[create_user]]></ChangeType>\
         <UserID><![CDATA[zhangsan]]></UserID><Name><![CDATA[张三]]></Name>\
         <Department><![CDATA[1,2,3]]></Department><MainDepartment>1</MainDepartment>\
         <IsLeaderInDept><![CDATA[1,0,0]]></IsLeaderInDept>\
         <DirectLeader><![CDATA[lisi,wangwu]]></DirectLeader>\
         <Position><![CDATA[产品经理]]></Position><Mobile>13800000000</Mobile>\
         <Gender>1</Gender><Email><![CDATA[zhangsan@example.com]]></Email><Status>1</Status>\
         <Avatar><![CDATA[http://x/y.png]]></Avatar>",
    ))
    .unwrap();
    assert_eq!(m.from_user, "sys");
    assert_eq!(m.agent_id, None);
    assert_eq!(
        m.kind,
        InboundKind::ChangeContact(ContactChange::CreateUser(UserFields {
            user_id: "zhangsan".into(),
            new_user_id: None,
            name: Some("张三".into()),
            departments: vec![1, 2, 3],
            main_department: Some(1),
            is_leader_in_dept: vec![true, false, false],
            direct_leaders: vec!["lisi".into(), "wangwu".into()],
            position: Some("产品经理".into()),
            mobile: Some("13800000000".into()),
            email: Some("zhangsan@example.com".into()),
            status: Some(1),
        }))
    );
    assert_eq!(
        m.dedupe_key(),
        "evt::sys:1700000001:change_contact:::create_user"
    );
}

#[test]
fn change_contact_update_user_minimal_and_renamed() {
    // Newer contacts-sync URLs send only UserID and Department.
    let m = parse(&contact(
        "<ChangeType>update_user</ChangeType><UserID>lisi</UserID>\
         <NewUserID><![CDATA[lisi2]]></NewUserID><Department>7</Department>",
    ))
    .unwrap();
    assert_eq!(
        m.kind,
        InboundKind::ChangeContact(ContactChange::UpdateUser(UserFields {
            user_id: "lisi".into(),
            new_user_id: Some("lisi2".into()),
            departments: vec![7],
            ..UserFields::default()
        }))
    );
}

#[test]
fn change_contact_delete_user_party_and_tag() {
    assert_eq!(
        kind(&contact(
            "<ChangeType>delete_user</ChangeType><UserID>wangwu</UserID>"
        )),
        InboundKind::ChangeContact(ContactChange::DeleteUser {
            user_id: "wangwu".into()
        })
    );
    for change in ["create_party", "update_party", "delete_party", "update_tag"] {
        let m = parse(&contact(&format!(
            "<ChangeType><![CDATA[{change}]]></ChangeType><Id>2</Id><ParentId>1</ParentId>"
        )))
        .unwrap();
        assert_eq!(
            m.kind,
            InboundKind::ChangeContact(ContactChange::Other {
                change: change.into()
            })
        );
        assert!(
            m.dedupe_key()
                .ends_with(&format!(":change_contact:::{change}"))
        );
    }
}

#[test]
fn change_contact_bad_values_are_errors() {
    for inner in [
        "<ChangeType>create_user</ChangeType><UserID>u</UserID><Department>1,x</Department>",
        "<ChangeType>create_user</ChangeType><UserID>u</UserID><IsLeaderInDept>1,2</IsLeaderInDept>",
        "<ChangeType>update_user</ChangeType><UserID>u</UserID><Status>active</Status>",
    ] {
        assert!(
            matches!(parse(&contact(inner)), Err(MessageError::Malformed(_))),
            "{inner}"
        );
    }
    assert_eq!(
        parse(&contact("<ChangeType>delete_user</ChangeType>")),
        Err(MessageError::Missing("UserID"))
    );
}

// ---------- unknown kinds ----------

#[test]
fn image_and_file_messages_carry_their_media() {
    let image = "<xml><ToUserName>ww1</ToUserName><FromUserName>u</FromUserName>\
                 <CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType>\
                 <PicUrl>http://x</PicUrl><MediaId>m</MediaId><MsgId>1234567890123456</MsgId>\
                 <AgentID>1</AgentID></xml>";
    let m = parse(image).unwrap();
    assert_eq!(
        m.kind,
        InboundKind::Media(MediaMessage {
            msg_id: "1234567890123456".into(),
            media_id: "m".into(),
            kind: MediaKind::Image,
            file_name: None,
            fetched: None,
        })
    );
    assert_eq!(m.dedupe_key(), "msg:1:1234567890123456");
    let file = image.replace("[image]", "[file]").replace(
        "<PicUrl>http://x</PicUrl>",
        "<FileName> 通报.pdf </FileName>",
    );
    assert!(
        matches!(kind(&file), InboundKind::Media(MediaMessage { kind: MediaKind::File, file_name: Some(n), .. }) if n == "通报.pdf")
    );
    let no_media = image.replace("<MediaId>m</MediaId>", "");
    assert_eq!(parse(&no_media), Err(MessageError::Missing("MediaId")));
}

#[test]
fn unknown_message_types_are_not_errors() {
    let voice = "<xml><ToUserName>ww1</ToUserName><FromUserName>u</FromUserName>\
                 <CreateTime>1348831860</CreateTime><MsgType><![CDATA[voice]]></MsgType>\
                 <Format>amr</Format><MediaId>m</MediaId><MsgId>1234567890123456</MsgId>\
                 <AgentID>1</AgentID></xml>";
    let m = parse(voice).unwrap();
    assert_eq!(
        m.kind,
        InboundKind::Unknown {
            msg_type: "voice".into(),
            event: None,
            msg_id: Some("1234567890123456".into()),
            event_key: None,
        }
    );
    assert_eq!(m.dedupe_key(), "msg:1:1234567890123456");

    let location = voice.replace("voice", "location").replace(
        "<Format>amr</Format>",
        "<Location_X>23.13</Location_X><Location_Y>113.26</Location_Y>",
    );
    assert!(
        matches!(kind(&location), InboundKind::Unknown { msg_type, .. } if msg_type == "location")
    );
}

#[test]
fn unknown_events_are_not_errors() {
    let m = parse(&event("<Event><![CDATA[subscribe]]></Event>")).unwrap();
    assert_eq!(
        m.kind,
        InboundKind::Unknown {
            msg_type: "event".into(),
            event: Some("subscribe".into()),
            msg_id: None,
            event_key: None,
        }
    );
    assert_eq!(
        m.dedupe_key(),
        "evt:1000002:zhangsan:1700000000:subscribe:::"
    );

    let menu = parse(&event(
        "<Event>template_card_menu_event</Event><EventKey>menu1</EventKey><TaskId>t</TaskId>",
    ))
    .unwrap();
    assert!(matches!(
        &menu.kind,
        InboundKind::Unknown { event: Some(e), event_key: Some(k), .. }
            if e == "template_card_menu_event" && k == "menu1"
    ));
    assert!(matches!(
        kind(&event("")),
        InboundKind::Unknown { event: None, .. }
    ));
}

// ---------- structure ----------

#[test]
fn element_order_and_whitespace_do_not_matter() {
    let ordered = vector("A1_doc_decrypt_message")["expected"]["msg"]
        .as_str()
        .unwrap()
        .to_owned();
    let shuffled = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<xml>\r\n\t<AgentID>218</AgentID>\n  \
        <MsgId>\n4561255354251345929\n</MsgId>\n  <Content><![CDATA[hello]]></Content>\n  \
        <!-- comment -->\n  <MsgType>\n    <![CDATA[text]]>\n  </MsgType>\n  <CreateTime> 1409659813 </CreateTime>\n  \
        <FromUserName>mycreate</FromUserName>\n  <ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n</xml>\n";
    assert_eq!(parse(&ordered).unwrap(), parse(shuffled).unwrap());
}

#[test]
fn envelope_in_any_order_with_cdata_or_plain_agent_id() {
    let official = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n\
        <Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5==]]></Encrypt>\n\
        <AgentID><![CDATA[218]]></AgentID>\n</xml>";
    assert_eq!(
        parse_envelope(official).unwrap(),
        Envelope {
            to_user: Some("wx5823bf96d3bd56c7".into()),
            agent_id: Some("218".into()),
            encrypt: "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5==".into(),
        }
    );
    let plain = "<xml><AgentID>1000002</AgentID><Encrypt>abc=</Encrypt></xml>";
    assert_eq!(
        parse_envelope(plain).unwrap(),
        Envelope {
            to_user: None,
            agent_id: Some("1000002".into()),
            encrypt: "abc=".into()
        }
    );
    assert_eq!(
        parse_envelope("<xml><ToUserName>ww</ToUserName><AgentID>1</AgentID></xml>"),
        Err(MessageError::Missing("Encrypt"))
    );
    assert!(matches!(
        parse_envelope("<xml><Encrypt>abc</Encrypt>"),
        Err(MessageError::Malformed(_))
    ));
}

#[test]
fn envelope_then_crypto_then_parse_end_to_end() {
    let v = vector("B2_python_sample_decrypt_message");
    let s = |f: &str| v[f].as_str().unwrap().to_owned();
    let body = format!(
        "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n\
         <Encrypt><![CDATA[{}]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>",
        s("encrypt")
    );
    let env = parse_envelope(&body).unwrap();
    let key = AesKey::from_encoding_aes_key(&s("encoding_aes_key")).unwrap();
    let crypto = CallbackCrypto::new(&s("token"), key, &s("receiveid"));
    let plain = crypto
        .verify_and_decrypt(
            &s("msg_signature"),
            &s("timestamp"),
            &s("nonce"),
            &env.encrypt,
        )
        .unwrap();
    let m = parse(std::str::from_utf8(&plain).unwrap()).unwrap();
    assert_eq!(m.agent_id, env.agent_id);
    assert_eq!(m.dedupe_key(), "msg:1000002:1456453720");
}

#[test]
fn malformed_xml_is_an_error() {
    for bad in [
        "",
        "not xml at all",
        "<xml><ToUserName>a</ToUserName>",
        "<xml><ToUserName>a</FromUserName></xml>",
        "<xml><A><B></A></B></xml>",
        "<xml></xml><xml></xml>",
        "<root><ToUserName>a</ToUserName></root>",
        "<xml><ToUserName>a</ToUserName></xml>junk",
        "<xml><Content><![CDATA[open</Content></xml>",
    ] {
        assert!(
            matches!(parse(bad), Err(MessageError::Malformed(_))),
            "{bad:?} -> {:?}",
            parse(bad)
        );
    }
    let bad_time = "<xml><ToUserName>w</ToUserName><FromUserName>u</FromUserName>\
                    <CreateTime>yesterday</CreateTime><MsgType>text</MsgType></xml>";
    assert!(matches!(parse(bad_time), Err(MessageError::Malformed(_))));
}

#[test]
fn doctype_and_custom_entities_are_refused() {
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY lol \"lol\">\
        <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\
        <xml><ToUserName>w</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>\
        <MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>";
    let xxe = "<!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
        <xml><Encrypt>&xxe;</Encrypt></xml>";
    let doctype_only = "<!DOCTYPE xml><xml><Encrypt>abc</Encrypt></xml>";
    let undeclared = "<xml><Encrypt>&xxe;</Encrypt></xml>";
    let html_entity = "<xml><Encrypt>a&nbsp;b</Encrypt></xml>";
    assert!(matches!(parse(laughs), Err(MessageError::Malformed(_))));
    for bad in [xxe, doctype_only, undeclared, html_entity] {
        assert!(
            matches!(parse_envelope(bad), Err(MessageError::Malformed(_))),
            "{bad}"
        );
    }
}

#[test]
fn missing_common_fields() {
    let full = [
        ("ToUserName", "<ToUserName>w</ToUserName>"),
        ("FromUserName", "<FromUserName>u</FromUserName>"),
        ("CreateTime", "<CreateTime>1</CreateTime>"),
        ("MsgType", "<MsgType>text</MsgType>"),
    ];
    for (missing, _) in full {
        let inner: String = full
            .iter()
            .filter(|(name, _)| *name != missing)
            .map(|(_, el)| *el)
            .collect();
        let xml = format!("<xml>{inner}<Content>x</Content><MsgId>1</MsgId></xml>");
        assert_eq!(parse(&xml), Err(MessageError::Missing(missing)), "{xml}");
        // Present but empty counts as missing too.
        let empty =
            format!("<xml>{inner}<{missing}><![CDATA[]]></{missing}><MsgId>1</MsgId></xml>");
        assert_eq!(
            parse(&empty),
            Err(MessageError::Missing(missing)),
            "{empty}"
        );
    }
    let no_msg_id = "<xml><ToUserName>w</ToUserName><FromUserName>u</FromUserName>\
                     <CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>";
    assert_eq!(parse(no_msg_id), Err(MessageError::Missing("MsgId")));
}

// ---------- dedupe keys ----------

fn card_tap(task_id: &str) -> String {
    event(&format!(
        "<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[approve]]></EventKey>\
         <TaskId><![CDATA[{task_id}]]></TaskId><CardType>button_interaction</CardType>\
         <ResponseCode><![CDATA[{task_id}-rc]]></ResponseCode>"
    ))
}

#[test]
fn dedupe_keys_separate_card_taps_in_the_same_second() {
    let a = parse(&card_tap("task_a")).unwrap();
    let b = parse(&card_tap("task_b")).unwrap();
    assert_eq!((&a.from_user, a.create_time), (&b.from_user, b.create_time));
    assert_ne!(a.dedupe_key(), b.dedupe_key());
    // A retry carries the same XML and must collapse.
    assert_eq!(
        a.dedupe_key(),
        parse(&card_tap("task_a")).unwrap().dedupe_key()
    );
}

#[test]
fn dedupe_keys_are_stable_and_distinguish_kinds() {
    let click = event("<Event>click</Event><EventKey>k1</EventKey>");
    let a = parse(&click).unwrap();
    assert_eq!(a.dedupe_key(), parse(&click).unwrap().dedupe_key());
    assert_eq!(a.dedupe_key(), "evt:1000002:zhangsan:1700000000:click:k1::");
    let other_key = parse(&event("<Event>click</Event><EventKey>k2</EventKey>")).unwrap();
    assert_ne!(a.dedupe_key(), other_key.dedupe_key());
    let view = parse(&event("<Event>view</Event><EventKey>k1</EventKey>")).unwrap();
    assert_ne!(a.dedupe_key(), view.dedupe_key());
    assert_eq!(
        parse(&event("<Event>enter_agent</Event><EventKey></EventKey>"))
            .unwrap()
            .dedupe_key(),
        "evt:1000002:zhangsan:1700000000:enter_agent:::"
    );
    // A message without AgentID keeps an empty slot.
    let text = "<xml><ToUserName>w</ToUserName><FromUserName>u</FromUserName>\
                <CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>42</MsgId></xml>";
    assert_eq!(parse(text).unwrap().dedupe_key(), "msg::42");
}

#[test]
fn inbound_round_trips_through_json() {
    for xml in [
        event(CARD_WITH_SELECTION),
        contact(
            "<ChangeType>create_user</ChangeType><UserID>u</UserID><Department>1,2</Department>",
        ),
        vector("A1_doc_decrypt_message")["expected"]["msg"]
            .as_str()
            .unwrap()
            .to_owned(),
    ] {
        let m = parse(&xml).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Inbound>(&json).unwrap(), m);
    }
}
